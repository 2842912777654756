import { describe, expect, it } from 'vitest';
import { SlurmClusterSpec, type SlurmClusterSpecInput } from '../../crds/index.js';
import type { ConnectionState } from '../../slurm-bridge/index.js';
import { SessionRegistry } from './registry.js';
import type { ClusterSessionImpl, OpenSessionOptions, SessionCredentials } from './session.js';

/** Only what the registry touches of a session: its connection state, close() and the watcher's polls. */
class FakeSession {
  closed = false;
  state: ConnectionState = { status: 'connected' } as ConnectionState;
  readonly watcher = { polls: 0 };
  readonly connection: { readonly state: ConnectionState };

  constructor(readonly options: OpenSessionOptions) {
    const session = this;
    this.connection = {
      get state(): ConnectionState {
        return session.state;
      },
    };
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}

function fakeOpener() {
  const opened: FakeSession[] = [];
  let failWith: Error | undefined;
  const open = async (options: OpenSessionOptions): Promise<ClusterSessionImpl> => {
    if (failWith) throw failWith;
    const session = new FakeSession(options);
    opened.push(session);
    return session as unknown as ClusterSessionImpl;
  };
  return {
    opened,
    open,
    failNextWith(error: Error | undefined) {
      failWith = error;
    },
  };
}

function newRegistry() {
  const opener = fakeOpener();
  const registry = new SessionRegistry({
    base: {} as RegistryBase,
    open: opener.open,
  });
  const sessionChanges: string[] = [];
  registry.onSessionChange((cluster) => sessionChanges.push(cluster));
  return { registry, opener, sessionChanges };
}
type RegistryBase = ConstructorParameters<typeof SessionRegistry>[0]['base'];

const specInput: SlurmClusterSpecInput = {
  host: 'login.example.org',
  port: 22,
  user: 'alice',
  sshSecretRef: { name: 'ssh' },
  workDir: '/home/alice/hpcbench',
  containerRuntime: 'native',
};
const spec = (overrides: Partial<SlurmClusterSpecInput> = {}) =>
  SlurmClusterSpec.parse({ ...specInput, ...overrides });
const credentials = (
  privateKey = 'key-1',
  knownHosts = 'login.example.org ssh-ed25519 AAAA',
): SessionCredentials => ({
  privateKey: Buffer.from(privateKey),
  knownHosts,
});
const CLUSTER = 'team-a/hpc';

describe('SessionRegistry', () => {
  it('returns the same session when neither the connection spec nor the credentials changed', async () => {
    const { registry, opener } = newRegistry();
    const first = await registry.ensure(CLUSTER, spec(), credentials());
    const second = await registry.ensure(CLUSTER, spec(), credentials());
    expect(second).toBe(first);
    expect(opener.opened).toHaveLength(1);
  });

  it('keeps the session when only monitoring or defaults change, and gives it the new spec', async () => {
    const { registry, opener } = newRegistry();
    const first = await registry.ensure(CLUSTER, spec(), credentials());
    const second = await registry.ensure(
      CLUSTER,
      spec({ monitoring: { enabled: false }, defaults: { clientPartition: 'cpu' } }),
      credentials(),
    );
    expect(second).toBe(first);
    expect(opener.opened).toHaveLength(1);
    // Later submits read defaults from session.spec: an edited account or partition must reach them.
    expect(second.spec.defaults?.clientPartition).toBe('cpu');
  });

  it.each([
    ['a new private key', () => [spec(), credentials('key-2')] as const],
    [
      'a new known_hosts',
      () => [spec(), credentials('key-1', 'login.example.org ssh-ed25519 BBBB')] as const,
    ],
    ['another host', () => [spec({ host: 'login2.example.org' }), credentials()] as const],
    ['another port', () => [spec({ port: 2222 }), credentials()] as const],
    ['another user', () => [spec({ user: 'bob' }), credentials()] as const],
    ['another work dir', () => [spec({ workDir: '/scratch/alice' }), credentials()] as const],
  ])('opens a new session and closes the old one after %s', async (_what, changed) => {
    const { registry, opener } = newRegistry();
    await registry.ensure(CLUSTER, spec(), credentials());
    const [nextSpec, nextCredentials] = changed();
    const next = await registry.ensure(CLUSTER, nextSpec, nextCredentials);
    expect(opener.opened).toHaveLength(2);
    expect(opener.opened[0]?.closed).toBe(true);
    expect(opener.opened[1]?.closed).toBe(false);
    const lookup = registry.lookup(CLUSTER);
    expect(lookup.ok && lookup.session).toBe(next);
  });

  it('replaces a session whose connection failed for good, even with the same inputs', async () => {
    const { registry, opener } = newRegistry();
    await registry.ensure(CLUSTER, spec(), credentials());
    const broken = opener.opened[0]!;
    broken.state = { status: 'failed', message: 'host key changed' } as ConnectionState;
    await registry.ensure(CLUSTER, spec(), credentials());
    expect(opener.opened).toHaveLength(2);
    expect(broken.closed).toBe(true);
  });

  it('shares one opening between concurrent callers, so a burst of reconciles makes one connection', async () => {
    const { registry, opener } = newRegistry();
    const [a, b, c] = await Promise.all([
      registry.ensure(CLUSTER, spec(), credentials()),
      registry.ensure(CLUSTER, spec(), credentials()),
      registry.ensure(CLUSTER, spec(), credentials()),
    ]);
    expect(opener.opened).toHaveLength(1);
    expect(b).toBe(a);
    expect(c).toBe(a);
  });

  it('forwards job changes of any session to every job listener', async () => {
    const { registry, opener } = newRegistry();
    const owners: string[] = [];
    registry.onJobChange((owner) => owners.push(owner));
    await registry.ensure(CLUSTER, spec(), credentials());
    opener.opened[0]?.options.onJobChange('team-a/bench-1');
    expect(owners).toEqual(['team-a/bench-1']);
  });

  describe('lookup', () => {
    it('says ClusterNotReady "not connected yet" for a cluster it never saw', () => {
      const { registry } = newRegistry();
      expect(registry.lookup(CLUSTER)).toEqual({
        ok: false,
        reason: 'ClusterNotReady',
        message: `SlurmCluster ${CLUSTER} is not connected yet`,
      });
    });

    it('gives the session while its connection is up or reconnecting', async () => {
      const { registry, opener } = newRegistry();
      const session = await registry.ensure(CLUSTER, spec(), credentials());
      opener.opened[0]!.state = { status: 'reconnecting' } as ConnectionState;
      const lookup = registry.lookup(CLUSTER);
      expect(lookup.ok && lookup.session).toBe(session);
    });

    it('says ClusterNotReady with the connection error when opening failed', async () => {
      const { registry, opener, sessionChanges } = newRegistry();
      opener.failNextWith(new Error('the host key of login.example.org does not match known_hosts'));
      await expect(registry.ensure(CLUSTER, spec(), credentials())).rejects.toThrow(/host key/);
      expect(registry.lookup(CLUSTER)).toEqual({
        ok: false,
        reason: 'ClusterNotReady',
        message: 'the host key of login.example.org does not match known_hosts',
      });
      expect(sessionChanges).toEqual([CLUSTER]);
    });

    it('says ClusterNotReady with the failure of a connection that broke for good', async () => {
      const { registry, opener } = newRegistry();
      await registry.ensure(CLUSTER, spec(), credentials());
      opener.opened[0]!.state = { status: 'failed', message: 'authentication refused' } as ConnectionState;
      const lookup = registry.lookup(CLUSTER);
      expect(lookup.ok).toBe(false);
      expect(!lookup.ok && lookup.message).toContain('authentication refused');
    });

    it('says ClusterNotFound once the SlurmCluster is removed, and closes its connection', async () => {
      const { registry, opener, sessionChanges } = newRegistry();
      await registry.ensure(CLUSTER, spec(), credentials());
      await registry.remove(CLUSTER);
      expect(opener.opened[0]?.closed).toBe(true);
      expect(registry.lookup(CLUSTER)).toEqual({
        ok: false,
        reason: 'ClusterNotFound',
        message: `SlurmCluster ${CLUSTER} does not exist`,
      });
      expect(sessionChanges).toEqual([CLUSTER, CLUSTER]);
    });

    it('notifies session listeners once per distinct unavailability message, not on every retry', () => {
      const { registry, sessionChanges } = newRegistry();
      registry.markUnavailable(CLUSTER, 'ClusterNotReady', 'SecretNotFound: Secret team-a/ssh not found');
      registry.markUnavailable(CLUSTER, 'ClusterNotReady', 'SecretNotFound: Secret team-a/ssh not found');
      registry.markUnavailable(CLUSTER, 'ClusterNotReady', 'Unreachable: connection refused');
      expect(sessionChanges).toEqual([CLUSTER, CLUSTER]);
    });

    it('serves a working session again after an earlier failure was recorded', async () => {
      const { registry } = newRegistry();
      registry.markUnavailable(CLUSTER, 'ClusterNotReady', 'Unreachable: connection refused');
      const session = await registry.ensure(CLUSTER, spec(), credentials());
      const lookup = registry.lookup(CLUSTER);
      expect(lookup.ok && lookup.session).toBe(session);
    });
  });

  it('closes every session on closeAll', async () => {
    const { registry, opener } = newRegistry();
    await registry.ensure('a/one', spec(), credentials());
    await registry.ensure('b/two', spec(), credentials());
    await registry.closeAll();
    expect(opener.opened.map((session) => session.closed)).toEqual([true, true]);
  });
});
