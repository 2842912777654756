import { describe, expect, it } from 'vitest';
import { chartDir, find, type K8sObject, KUBE_VERSION, only, runHelm, template, valuesFile } from './helm.js';

// The chart rendered and linted by the real helm (no apiserver needed). install.test.ts installs it.

interface Container {
  name: string;
  args: string[];
  securityContext: Record<string, unknown>;
  livenessProbe?: { httpGet: { path: string; port: string } };
  readinessProbe?: { httpGet: { path: string; port: string } };
  ports: { name: string; containerPort: number }[];
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
}
interface PodTemplate {
  spec: {
    serviceAccountName: string;
    securityContext: Record<string, unknown>;
    containers: Container[];
  };
}
interface Rule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
  resourceNames?: string[];
}

const podOf = (deployment: K8sObject) => (deployment.spec as { template: PodTemplate }).template.spec;
const rulesOf = (role: K8sObject) => role.rules as Rule[];

const nonDefault = {
  rbac: { watchNamespaces: ['team-a', 'team-b'] },
  metrics: { serviceMonitor: { enabled: true, labels: { release: 'kube-prometheus' } } },
  tunnel: {
    slurmCluster: 'meluxina',
    namespace: 'team-a',
    sshSecretName: 'meluxina-ssh',
    ingress: { enabled: true, host: 'grafana.example.org', tlsSecretName: 'grafana-tls', className: 'nginx' },
  },
};

describe('helm lint --strict', () => {
  it('passes with the default values', async () => {
    const result = await runHelm(['lint', '--strict', chartDir, '--kube-version', KUBE_VERSION]);
    expect(result.stderr + result.stdout).toMatch(/1 chart\(s\) linted, 0 chart\(s\) failed/);
    expect(result.code).toBe(0);
  });

  it('passes with namespaced RBAC, the Ingress and the ServiceMonitor on', async () => {
    const result = await runHelm([
      'lint',
      '--strict',
      chartDir,
      '--kube-version',
      KUBE_VERSION,
      '--values',
      valuesFile(nonDefault),
    ]);
    expect(result.stderr + result.stdout).toMatch(/0 chart\(s\) failed/);
    expect(result.code).toBe(0);
  });
});

describe('helm template with the default values', () => {
  it('renders the operator, its RBAC, the metrics Service and the tunnel, and nothing optional', async () => {
    const objects = await template();
    const kinds = objects.map((o) => `${o.kind}/${o.metadata.name}`).sort();
    expect(kinds).toEqual(
      [
        'ClusterRole/hpcbench-inference-benchmark-operator',
        'ClusterRoleBinding/hpcbench-inference-benchmark-operator',
        'Deployment/hpcbench-inference-benchmark-operator',
        'Deployment/hpcbench-inference-benchmark-operator-tunnel',
        'Role/hpcbench-inference-benchmark-operator-leader-election',
        'Role/hpcbench-inference-benchmark-operator-tunnel',
        'RoleBinding/hpcbench-inference-benchmark-operator-leader-election',
        'RoleBinding/hpcbench-inference-benchmark-operator-tunnel',
        'Service/hpcbench-grafana',
        'Service/hpcbench-inference-benchmark-operator-metrics',
        'Service/hpcbench-prometheus',
        'ServiceAccount/hpcbench-inference-benchmark-operator',
        'ServiceAccount/hpcbench-inference-benchmark-operator-tunnel',
      ].sort(),
    );
  });

  it('runs both containers non-root, read-only, without capabilities, under seccomp RuntimeDefault', async () => {
    const objects = await template();
    for (const deployment of find(objects, 'Deployment')) {
      const pod = podOf(deployment);
      expect(pod.securityContext).toMatchObject({
        runAsNonRoot: true,
        seccompProfile: { type: 'RuntimeDefault' },
      });
      for (const container of pod.containers) {
        expect(container.securityContext).toEqual({
          allowPrivilegeEscalation: false,
          readOnlyRootFilesystem: true,
          runAsNonRoot: true,
          capabilities: { drop: ['ALL'] },
        });
        expect(container.resources?.requests).toBeDefined();
        expect(container.resources?.limits?.memory).toBeDefined();
      }
    }
  });

  it("probes the operator's /healthz and /readyz on :8081 and exposes /metrics on :8080", async () => {
    const operator = podOf(only(await template(), 'Deployment', 'hpcbench-inference-benchmark-operator'));
    const container = operator.containers[0] as Container;
    expect(container.args[0]).toBe('operator');
    expect(container.ports).toEqual([
      { name: 'metrics', containerPort: 8080, protocol: 'TCP' },
      { name: 'health', containerPort: 8081, protocol: 'TCP' },
    ]);
    expect(container.livenessProbe?.httpGet).toEqual({ path: '/healthz', port: 'health' });
    expect(container.readinessProbe?.httpGet).toEqual({ path: '/readyz', port: 'health' });
    expect(container.args).toContain('--leader-elect');
    expect(container.args.some((arg) => arg.startsWith('--namespaces'))).toBe(false);
  });

  it('limits Lease access to one name, with create as a separate rule', async () => {
    const role = only(await template(), 'Role', 'hpcbench-inference-benchmark-operator-leader-election');
    expect(rulesOf(role)).toEqual([
      { apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['create'] },
      {
        apiGroups: ['coordination.k8s.io'],
        resources: ['leases'],
        resourceNames: ['hpcbench-inference-benchmark-operator-leader'],
        verbs: ['get', 'update', 'patch'],
      },
    ]);
  });

  it('lets the operator read Secrets one by one but never list them', async () => {
    const role = only(await template(), 'ClusterRole');
    const secretRules = rulesOf(role).filter((rule) => rule.resources.includes('secrets'));
    expect(secretRules).toEqual([{ apiGroups: [''], resources: ['secrets'], verbs: ['get'] }]);
    const verbs = rulesOf(role).flatMap((rule) => rule.verbs);
    expect(verbs).not.toContain('delete');
    expect(verbs).not.toContain('deletecollection');
    expect(verbs).not.toContain('*');
  });

  it('serves the tunnel as <release>-grafana:3000 and <release>-prometheus:9090', async () => {
    const objects = await template();
    const grafana = only(objects, 'Service', 'hpcbench-grafana').spec as { ports: { port: number }[] };
    const prometheus = only(objects, 'Service', 'hpcbench-prometheus').spec as { ports: { port: number }[] };
    expect(grafana.ports[0]?.port).toBe(3000);
    expect(prometheus.ports[0]?.port).toBe(9090);
    const tunnel = podOf(only(objects, 'Deployment', 'hpcbench-inference-benchmark-operator-tunnel'));
    expect(tunnel.containers[0]?.args).toEqual([
      'tunnel',
      '--namespace=hpcbench-system',
      '--bind=0.0.0.0',
      '--grafana-port=3000',
      '--prometheus-port=9090',
      '--health-bind=0.0.0.0:8081',
    ]);
  });

  it('keeps every name within 63 characters, even for a long release name', async () => {
    const release = 'a-very-long-release-name-that-someone-typed-for-their-benchmarks';
    const objects = await template({}, { release: release.slice(0, 53) });
    for (const object of objects) {
      expect(object.metadata.name.length, object.metadata.name).toBeLessThanOrEqual(63);
      expect(object.metadata.name).not.toMatch(/-$/);
      for (const value of Object.values(object.metadata.labels ?? {}))
        expect(value.length).toBeLessThanOrEqual(63);
    }
    const names = objects.map((o) => `${o.kind}/${o.metadata.name}`);
    expect(new Set(names).size).toBe(names.length);
  });
});

describe('helm template with namespaced RBAC, the Ingress and the ServiceMonitor on', () => {
  it('gives the operator a Role in each watched namespace and nothing cluster-wide', async () => {
    const objects = await template(nonDefault);
    expect(find(objects, 'ClusterRole')).toEqual([]);
    expect(find(objects, 'ClusterRoleBinding')).toEqual([]);
    const roles = find(objects, 'Role', 'hpcbench-inference-benchmark-operator');
    expect(roles.map((role) => role.metadata.namespace).sort()).toEqual(['team-a', 'team-b']);
    const bindings = find(objects, 'RoleBinding', 'hpcbench-inference-benchmark-operator');
    expect(bindings.map((binding) => binding.metadata.namespace).sort()).toEqual(['team-a', 'team-b']);
    const operator = podOf(only(objects, 'Deployment', 'hpcbench-inference-benchmark-operator'));
    expect(operator.containers[0]?.args).toContain('--namespaces=team-a,team-b');
  });

  it("limits the tunnel to the SlurmCluster's namespace and its one SSH Secret", async () => {
    const objects = await template(nonDefault);
    const role = only(objects, 'Role', 'hpcbench-inference-benchmark-operator-tunnel');
    expect(role.metadata.namespace).toBe('team-a');
    expect(rulesOf(role)).toContainEqual({
      apiGroups: [''],
      resources: ['secrets'],
      verbs: ['get'],
      resourceNames: ['meluxina-ssh'],
    });
    const tunnel = podOf(only(objects, 'Deployment', 'hpcbench-inference-benchmark-operator-tunnel'));
    expect(tunnel.containers[0]?.args).toContain('--cluster=meluxina');
  });

  it('routes the Ingress host to the Grafana Service with TLS', async () => {
    const ingress = only(await template(nonDefault), 'Ingress');
    expect(ingress.spec).toEqual({
      ingressClassName: 'nginx',
      tls: [{ hosts: ['grafana.example.org'], secretName: 'grafana-tls' }],
      rules: [
        {
          host: 'grafana.example.org',
          http: {
            paths: [
              {
                path: '/',
                pathType: 'Prefix',
                backend: { service: { name: 'hpcbench-grafana', port: { name: 'http' } } },
              },
            ],
          },
        },
      ],
    });
  });

  it('selects the metrics Service from the ServiceMonitor', async () => {
    const objects = await template(nonDefault);
    const monitor = only(objects, 'ServiceMonitor');
    const service = only(objects, 'Service', 'hpcbench-inference-benchmark-operator-metrics');
    expect(monitor.metadata.labels?.release).toBe('kube-prometheus');
    const selector = (monitor.spec as { selector: { matchLabels: Record<string, string> } }).selector
      .matchLabels;
    expect(service.metadata.labels).toMatchObject(selector);
    expect(
      find(objects, 'Service').filter((s) =>
        Object.entries(selector).every(([k, v]) => s.metadata.labels?.[k] === v),
      ),
    ).toHaveLength(1);
  });
});

describe('values.schema.json and template guards', () => {
  const cases: { name: string; values: unknown; message: RegExp }[] = [
    {
      name: 'rejects a misspelled key, naming it',
      values: { operater: { replicas: 1 } },
      message: /additional properties 'operater' not allowed/,
    },
    {
      name: 'rejects replicas given as text',
      values: { operator: { replicas: 'two' } },
      message: /at '\/operator\/replicas': got string, want integer/,
    },
    {
      name: 'rejects an unknown image pull policy, listing the allowed ones',
      values: { image: { pullPolicy: 'Sometimes' } },
      message: /at '\/image\/pullPolicy': value must be one of 'Always', 'IfNotPresent', 'Never'/,
    },
    {
      name: 'rejects a watched namespace that is not a DNS label',
      values: { rbac: { watchNamespaces: ['Team_A'] } },
      message: /at '\/rbac\/watchNamespaces\/0': 'Team_A' does not match pattern/,
    },
    {
      name: 'rejects a port out of range',
      values: { tunnel: { grafanaPort: 70000 } },
      message: /at '\/tunnel\/grafanaPort'/,
    },
    {
      name: 'rejects a scrape interval that is not a Prometheus duration',
      values: { metrics: { serviceMonitor: { interval: 'soon' } } },
      message: /at '\/metrics\/serviceMonitor\/interval'/,
    },
    {
      name: 'rejects an unknown log level',
      values: { operator: { logLevel: 'verbose' } },
      message: /at '\/operator\/logLevel'/,
    },
    {
      name: 'rejects an enabled Ingress without a host',
      values: { tunnel: { ingress: { enabled: true } } },
      message: /at '\/tunnel\/ingress\/host'/,
    },
    {
      name: 'refuses two operator replicas without leader election, saying why',
      values: { operator: { replicas: 2, leaderElection: { enabled: false } } },
      message: /leaderElection\.enabled=true: two operators without a leader would both submit SLURM jobs/,
    },
    {
      name: 'refuses a tunnel whose Grafana and Prometheus ports collide',
      values: { tunnel: { grafanaPort: 9090 } },
      message: /must be three different ports/,
    },
    {
      name: 'refuses a ServiceMonitor without the metrics Service',
      values: { metrics: { service: { enabled: false }, serviceMonitor: { enabled: true } } },
      message: /needs metrics\.service\.enabled=true/,
    },
  ];
  for (const c of cases) {
    it(c.name, async () => {
      const result = await runHelm([
        'template',
        'hpcbench',
        chartDir,
        '--kube-version',
        KUBE_VERSION,
        '--values',
        valuesFile(c.values),
      ]);
      expect(result.code).not.toBe(0);
      expect(result.stderr).toMatch(c.message);
    });
  }
});
