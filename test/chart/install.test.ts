import { rmSync } from 'node:fs';
import { dirname } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { requireKube } from '../sandbox/description.js';
import {
  adminKubeConfig,
  kubeConfigForToken,
  mintServiceAccountToken,
  uniqueName,
  writeKubeConfigFile,
} from '../support/kube.js';
import { kubectl, kubectlOk } from '../support/kube-cli.js';
import { chartDir, type K8sObject, runHelm, valuesFile } from './helm.js';

// Installs the chart into the sandbox's real kube-apiserver (no kubelet: pods never run, but every object is
// created and RBAC is enforced), then asks the apiserver, with the operator's and the tunnel's own
// ServiceAccount tokens, what they may do.

const kube = requireKube();
const admin = adminKubeConfig(kube);
const helmEnv = { KUBECONFIG: kube.kubeconfig };

const releaseNamespace = uniqueName('ibo-chart');
const watched = uniqueName('ibo-watched');
const elsewhere = uniqueName('ibo-elsewhere');
const namespacedRelease = 'ns-scoped';
const clusterRelease = uniqueName('wide').slice(0, 20);
const clusterNamespace = uniqueName('ibo-chart-wide');
const tokenFiles: string[] = [];

/** Installs and returns what helm printed (NOTES.txt included). */
async function helmInstall(
  release: string,
  namespace: string,
  values: unknown,
  extra: string[] = [],
): Promise<string> {
  const result = await runHelm(
    [
      'install',
      release,
      chartDir,
      '--namespace',
      namespace,
      '--values',
      valuesFile(values),
      '--skip-crds',
      ...extra,
    ],
    helmEnv,
  );
  if (result.code !== 0) throw new Error(`helm install ${release} failed: ${result.stderr}`);
  return result.stdout;
}

let namespacedInstallOutput = '';
/** What the apiserver said when the chart's CRDs were applied; empty when it accepted them. */
let crdProblem = '';

async function kubeconfigFor(namespace: string, serviceAccount: string): Promise<string> {
  const token = await mintServiceAccountToken(admin, namespace, serviceAccount, 600);
  const file = writeKubeConfigFile(kubeConfigForToken(admin, token, serviceAccount));
  tokenFiles.push(file);
  return file;
}

/** `kubectl auth can-i` as the given identity: true for "yes", false for "no", throws on anything else. */
async function canI(kubeconfig: string, args: string[]): Promise<boolean> {
  const result = await kubectl(['auth', 'can-i', ...args], { kubeconfig });
  const answer = result.stdout.trim();
  if (answer !== 'yes' && answer !== 'no') throw new Error(`can-i ${args.join(' ')}: ${result.stderr}`);
  return answer === 'yes';
}

beforeAll(async () => {
  for (const namespace of [releaseNamespace, watched, elsewhere, clusterNamespace]) {
    await kubectlOk(['create', 'namespace', namespace]);
  }
  // Helm would create the chart's crds/ itself, but one refused CRD would then fail the whole install and hide
  // every RBAC answer below. So the CRDs are applied first (the same objects Helm would create), a refusal
  // is reported by its own test, and the releases install with --skip-crds.
  const crds = await kubectl(['apply', '--server-side', '--force-conflicts', '-f', `${chartDir}/crds/`]);
  crdProblem = crds.code === 0 ? '' : crds.stderr.trim();
  namespacedInstallOutput = await helmInstall(namespacedRelease, releaseNamespace, {
    rbac: { watchNamespaces: [watched] },
    tunnel: {
      namespace: watched,
      slurmCluster: 'lab',
      sshSecretName: 'lab-ssh',
      ingress: { enabled: true, host: 'grafana.example.org' },
    },
  });
  await helmInstall(clusterRelease, clusterNamespace, {});
});

afterAll(async () => {
  // Namespaces cannot be deleted without a controller-manager; uninstalling removes the cluster-scoped RBAC.
  await runHelm(['uninstall', namespacedRelease, '--namespace', releaseNamespace], helmEnv);
  await runHelm(['uninstall', clusterRelease, '--namespace', clusterNamespace], helmEnv);
  for (const file of tokenFiles) rmSync(dirname(file), { recursive: true, force: true });
});

describe('helm install into the sandbox apiserver', () => {
  it("gets the chart's CRDs accepted by the apiserver", async () => {
    expect(crdProblem).toBe('');
    for (const crd of ['inferencebenchmarks.hpcbench.io', 'slurmclusters.hpcbench.io']) {
      await kubectlOk(['get', 'customresourcedefinition', crd, '-o', 'name']);
    }
  });

  it('creates every object of the release', async () => {
    const manifest = await runHelm(
      ['get', 'manifest', namespacedRelease, '--namespace', releaseNamespace],
      helmEnv,
    );
    expect(manifest.code).toBe(0);
    const objects = parseAllDocuments(manifest.stdout)
      .map((doc) => doc.toJS() as K8sObject | null)
      .filter((object): object is K8sObject => object !== null);
    expect(objects.map((o) => o.kind).sort()).toEqual(
      [
        'Deployment',
        'Deployment',
        'Ingress',
        'Role',
        'Role',
        'Role',
        'RoleBinding',
        'RoleBinding',
        'RoleBinding',
        'Service',
        'Service',
        'Service',
        'ServiceAccount',
        'ServiceAccount',
      ].sort(),
    );
    for (const object of objects) {
      const namespace = object.metadata.namespace ?? releaseNamespace;
      const resource =
        `${object.kind.toLowerCase()}.${object.apiVersion.includes('/') ? object.apiVersion.split('/')[0] : ''}`.replace(
          /\.$/,
          '',
        );
      await kubectlOk(['get', resource, object.metadata.name, '--namespace', namespace, '-o', 'name']);
    }
  });
});

describe('NOTES.txt (printed by helm install)', () => {
  it('gives the Grafana Ingress URL and the watched namespaces when the Ingress is on', () => {
    const notes = namespacedInstallOutput.slice(namespacedInstallOutput.indexOf('NOTES:'));
    expect(notes).toContain('http://grafana.example.org/');
    expect(notes).toContain(`http://${namespacedRelease}-prometheus.${releaseNamespace}.svc:9090`);
    expect(notes).toContain(`only watches these namespaces: ${watched}`);
  });

  it('tells how to reach Grafana through the tunnel Service with the default values', async () => {
    const output = await helmInstall('notes-check', clusterNamespace, {}, ['--dry-run=server']);
    const notes = output.slice(output.indexOf('NOTES:'));
    expect(notes).toContain(`kubectl -n ${clusterNamespace} port-forward svc/notes-check-grafana 3000:3000`);
  });

  it('says how to turn the tunnel on when it is off', async () => {
    const output = await helmInstall('notes-check', clusterNamespace, { tunnel: { enabled: false } }, [
      '--dry-run=server',
    ]);
    expect(output.slice(output.indexOf('NOTES:'))).toContain('--set tunnel.enabled=true');
  });
});

interface Question {
  sentence: string;
  args: string[];
  allowed: boolean;
}

describe('the operator ServiceAccount with namespaced RBAC', () => {
  const lease = `${namespacedRelease}-inference-benchmark-operator-leader`;
  const questions: Question[] = [
    {
      sentence: 'may watch benchmarks in the watched namespace',
      args: ['watch', 'inferencebenchmarks.hpcbench.io', '-n', watched],
      allowed: true,
    },
    {
      sentence: 'may list SlurmClusters in the watched namespace',
      args: ['list', 'slurmclusters.hpcbench.io', '-n', watched],
      allowed: true,
    },
    {
      sentence: 'may patch benchmarks (finalizers) in the watched namespace',
      args: ['patch', 'inferencebenchmarks.hpcbench.io', '-n', watched],
      allowed: true,
    },
    {
      sentence: 'may patch benchmark status',
      args: ['patch', 'inferencebenchmarks.hpcbench.io', '--subresource=status', '-n', watched],
      allowed: true,
    },
    {
      sentence: 'may update SlurmCluster status',
      args: ['update', 'slurmclusters.hpcbench.io', '--subresource=status', '-n', watched],
      allowed: true,
    },
    {
      sentence: 'may get a Secret in the watched namespace',
      args: ['get', 'secrets', '-n', watched],
      allowed: true,
    },
    {
      sentence: 'may create and patch Events in the watched namespace',
      args: ['create', 'events', '-n', watched],
      allowed: true,
    },
    {
      sentence: 'may create its Lease',
      args: ['create', 'leases.coordination.k8s.io', '-n', releaseNamespace],
      allowed: true,
    },
    {
      sentence: 'may renew its own Lease',
      args: ['update', `leases.coordination.k8s.io/${lease}`, '-n', releaseNamespace],
      allowed: true,
    },
    {
      sentence: 'may not list Secrets, even in the watched namespace',
      args: ['list', 'secrets', '-n', watched],
      allowed: false,
    },
    {
      sentence: 'may not get Secrets in another namespace',
      args: ['get', 'secrets', '-n', elsewhere],
      allowed: false,
    },
    {
      sentence: 'may not get Secrets in its own release namespace',
      args: ['get', 'secrets', '-n', releaseNamespace],
      allowed: false,
    },
    {
      sentence: 'may not watch benchmarks in another namespace',
      args: ['watch', 'inferencebenchmarks.hpcbench.io', '-n', elsewhere],
      allowed: false,
    },
    {
      sentence: 'may not list benchmarks across all namespaces',
      args: ['list', 'inferencebenchmarks.hpcbench.io', '--all-namespaces'],
      allowed: false,
    },
    {
      sentence: 'may not create benchmarks (it never writes what users own)',
      args: ['create', 'inferencebenchmarks.hpcbench.io', '-n', watched],
      allowed: false,
    },
    {
      sentence: 'may not delete benchmarks',
      args: ['delete', 'inferencebenchmarks.hpcbench.io', '-n', watched],
      allowed: false,
    },
    {
      sentence: 'may not renew a Lease of another name',
      args: ['update', 'leases.coordination.k8s.io/someone-else', '-n', releaseNamespace],
      allowed: false,
    },
    {
      sentence: 'may not touch Leases in a watched namespace',
      args: ['get', `leases.coordination.k8s.io/${lease}`, '-n', watched],
      allowed: false,
    },
    { sentence: 'may not read pods', args: ['get', 'pods', '-n', watched], allowed: false },
    {
      sentence: 'may not change CRDs',
      args: ['update', 'customresourcedefinitions.apiextensions.k8s.io'],
      allowed: false,
    },
  ];
  let kubeconfig = '';
  beforeAll(async () => {
    kubeconfig = await kubeconfigFor(releaseNamespace, `${namespacedRelease}-inference-benchmark-operator`);
  });
  for (const q of questions) {
    it(q.sentence, async () => {
      expect(await canI(kubeconfig, q.args)).toBe(q.allowed);
    });
  }
});

describe('the operator ServiceAccount with cluster-wide RBAC', () => {
  const questions: Question[] = [
    {
      sentence: 'may list benchmarks across all namespaces',
      args: ['list', 'inferencebenchmarks.hpcbench.io', '--all-namespaces'],
      allowed: true,
    },
    {
      sentence: 'may patch SlurmCluster status anywhere',
      args: ['patch', 'slurmclusters.hpcbench.io', '--subresource=status', '-n', elsewhere],
      allowed: true,
    },
    {
      sentence: 'may get a Secret in any namespace',
      args: ['get', 'secrets', '-n', elsewhere],
      allowed: true,
    },
    {
      sentence: 'may not list Secrets anywhere',
      args: ['list', 'secrets', '--all-namespaces'],
      allowed: false,
    },
    {
      sentence: 'may not delete SlurmClusters',
      args: ['delete', 'slurmclusters.hpcbench.io', '-n', elsewhere],
      allowed: false,
    },
    {
      sentence: 'may not create Leases outside its namespace',
      args: ['create', 'leases.coordination.k8s.io', '-n', elsewhere],
      allowed: false,
    },
  ];
  let kubeconfig = '';
  beforeAll(async () => {
    kubeconfig = await kubeconfigFor(clusterNamespace, `${clusterRelease}-inference-benchmark-operator`);
  });
  for (const q of questions) {
    it(q.sentence, async () => {
      expect(await canI(kubeconfig, q.args)).toBe(q.allowed);
    });
  }
});

describe('the tunnel ServiceAccount', () => {
  const questions: Question[] = [
    {
      sentence: "may watch SlurmClusters in the cluster's namespace",
      args: ['watch', 'slurmclusters.hpcbench.io', '-n', watched],
      allowed: true,
    },
    {
      sentence: 'may get the one SSH Secret it was given',
      args: ['get', 'secrets/lab-ssh', '-n', watched],
      allowed: true,
    },
    {
      sentence: 'may not get any other Secret',
      args: ['get', 'secrets/other', '-n', watched],
      allowed: false,
    },
    {
      sentence: 'may not write SlurmCluster status',
      args: ['patch', 'slurmclusters.hpcbench.io', '--subresource=status', '-n', watched],
      allowed: false,
    },
    {
      sentence: 'may not read benchmarks',
      args: ['get', 'inferencebenchmarks.hpcbench.io', '-n', watched],
      allowed: false,
    },
    {
      sentence: 'may not read SlurmClusters elsewhere',
      args: ['get', 'slurmclusters.hpcbench.io', '-n', elsewhere],
      allowed: false,
    },
  ];
  let kubeconfig = '';
  beforeAll(async () => {
    kubeconfig = await kubeconfigFor(
      releaseNamespace,
      `${namespacedRelease}-inference-benchmark-operator-tunnel`,
    );
  });
  for (const q of questions) {
    it(q.sentence, async () => {
      expect(await canI(kubeconfig, q.args)).toBe(q.allowed);
    });
  }
});
