import { describe, expect, it } from 'vitest';
import { connectionIdentity, monitoringTargetsOf, parseHostPort, selectCluster } from './cluster-view.js';

function cluster(name: string, status?: unknown, spec: Record<string, unknown> = {}) {
  return {
    apiVersion: 'hpcbench.io/v1alpha1',
    kind: 'SlurmCluster',
    metadata: { name, namespace: 'lab', generation: 1 },
    spec: {
      host: 'login.example.org',
      port: 22,
      user: 'alice',
      sshSecretRef: { name: 'alice-ssh', privateKeyKey: 'privateKey', knownHostsKey: 'knownHosts' },
      workDir: 'hpcbench',
      ...spec,
    },
    ...(status === undefined ? {} : { status }),
  };
}

describe('parseHostPort', () => {
  const cases: [string, string | undefined, { host: string; port: number } | undefined][] = [
    ['reads a host name and port', 'node017:3000', { host: 'node017', port: 3000 }],
    ['reads an IPv4 address', '10.1.2.3:9090', { host: '10.1.2.3', port: 9090 }],
    ['reads a bracketed IPv6 address', '[fe80::1]:3000', { host: 'fe80::1', port: 3000 }],
    ['refuses a missing port', 'node017', undefined],
    ['refuses a port above 65535', 'node017:70000', undefined],
    ['refuses an empty value', '', undefined],
    ['refuses an undefined value', undefined, undefined],
    ['refuses text with spaces', 'node 1:3000', undefined],
  ];
  for (const [name, input, expected] of cases) {
    it(name, () => expect(parseHostPort(input)).toEqual(expected));
  }
});

describe('selectCluster', () => {
  it('selects the named cluster among several', () => {
    const selection = selectCluster([cluster('a'), cluster('b')], 'lab', 'b');
    expect(selection.kind === 'selected' && selection.cluster.metadata.name).toBe('b');
  });

  it('selects the only cluster when no name is given', () => {
    expect(selectCluster([cluster('a')], 'lab', undefined).kind).toBe('selected');
  });

  it('reports a problem when no name is given and there are several clusters', () => {
    const selection = selectCluster([cluster('a'), cluster('b')], 'lab', undefined);
    expect(selection.kind === 'problem' && selection.message).toMatch(
      /several SlurmClusters .*a, b.*--cluster/,
    );
  });

  it('reports a problem when the named cluster does not exist', () => {
    const selection = selectCluster([cluster('a')], 'lab', 'z');
    expect(selection.kind === 'problem' && selection.message).toMatch(/lab\/z does not exist/);
  });

  it('reports, rather than skips, a cluster whose spec cannot be used', () => {
    const selection = selectCluster([cluster('a', undefined, { port: 'twenty-two' })], 'lab', 'a');
    expect(selection.kind === 'problem' && selection.message).toMatch(/spec\.port/);
  });

  it('accepts status fields it does not know (written by a newer operator)', () => {
    const selection = selectCluster(
      [cluster('a', { monitoring: { grafana: 'n1:3000', futureField: 1 }, somethingNew: true })],
      'lab',
      'a',
    );
    expect(selection.kind).toBe('selected');
  });
});

describe('monitoringTargetsOf', () => {
  it('reads both endpoints and the job id', () => {
    const selection = selectCluster(
      [cluster('a', { monitoring: { jobId: '42', grafana: 'n1:3000', prometheus: 'n1:9090' } })],
      'lab',
      'a',
    );
    if (selection.kind !== 'selected') throw new Error(selection.message);
    expect(monitoringTargetsOf(selection.cluster)).toEqual({
      grafana: { host: 'n1', port: 3000 },
      prometheus: { host: 'n1', port: 9090 },
      jobId: '42',
    });
  });

  it('has no targets while the status has no monitoring section', () => {
    const selection = selectCluster([cluster('a', {})], 'lab', 'a');
    if (selection.kind !== 'selected') throw new Error(selection.message);
    expect(monitoringTargetsOf(selection.cluster)).toEqual({
      grafana: undefined,
      prometheus: undefined,
      jobId: undefined,
    });
  });
});

describe('connectionIdentity', () => {
  const identityOf = (object: unknown) => {
    const selection = selectCluster([object], 'lab', 'a');
    if (selection.kind !== 'selected') throw new Error(selection.message);
    return connectionIdentity(selection.cluster);
  };

  it('stays the same when only the status changes (no reconnect when Grafana moves)', () => {
    expect(identityOf(cluster('a', { monitoring: { grafana: 'n1:3000' } }))).toBe(
      identityOf(cluster('a', { monitoring: { grafana: 'n2:3001' } })),
    );
  });

  it('changes when the login node or the Secret changes', () => {
    const base = identityOf(cluster('a'));
    expect(identityOf(cluster('a', undefined, { host: 'other.example.org' }))).not.toBe(base);
    expect(identityOf(cluster('a', undefined, { sshSecretRef: { name: 'bob-ssh' } }))).not.toBe(base);
  });
});
