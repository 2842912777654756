import { EventEmitter } from 'node:events';
import { createServer, type Server, connect as tcpConnect } from 'node:net';
import type { Duplex } from 'node:stream';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import type { ConnectionState, SshConnectionOptions } from '../../slurm-bridge/ssh/connection.js';
import { type ClusterSource, MonitoringTunnel, type TunnelConnection } from './monitoring-tunnel.js';

// Unit test with a stand-in transport: "remote" host:port pairs are local TCP servers and openTcp is a plain
// TCP connect. The real SSH path is covered by test/chart/tunnel.test.ts against the sandbox.

class LocalConnection extends EventEmitter implements TunnelConnection {
  state: ConnectionState = { status: 'idle' };
  constructor(
    readonly options: SshConnectionOptions,
    private readonly refuse: boolean,
  ) {
    super();
  }
  async connect(): Promise<void> {
    if (this.refuse) {
      this.setState({ status: 'failed', reason: 'AuthFailed', message: 'refused' });
      throw new Error('refused');
    }
    this.setState({ status: 'connected', since: new Date() });
  }
  openTcp(host: string, port: number): Promise<Duplex> {
    return new Promise((resolve, reject) => {
      const socket = tcpConnect(port, host, () => resolve(socket));
      socket.once('error', reject);
    });
  }
  async close(): Promise<void> {
    this.setState({ status: 'closed' });
  }
  private setState(state: ConnectionState): void {
    this.state = state;
    this.emit('state', state);
  }
}

class Clusters implements ClusterSource {
  objects: unknown[] = [];
  private listeners: (() => void)[] = [];
  list(): readonly unknown[] {
    return this.objects;
  }
  onChange(listener: () => void): void {
    this.listeners.push(listener);
  }
  set(objects: unknown[]): void {
    this.objects = objects;
    for (const listener of this.listeners) listener();
  }
}

function slurmCluster(grafana: string | undefined) {
  return {
    metadata: { name: 'lab', namespace: 'ns' },
    spec: {
      host: 'login',
      port: 22,
      user: 'alice',
      sshSecretRef: { name: 'alice-ssh', privateKeyKey: 'privateKey', knownHostsKey: 'knownHosts' },
    },
    status: grafana ? { monitoring: { jobId: '1', grafana } } : {},
  };
}

/** A one-line "Grafana" that says who it is. */
async function fakeGrafana(name: string): Promise<{ server: Server; port: number }> {
  const server = createServer((socket) => socket.end(`${name}\n`));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (!address || typeof address === 'string') throw new Error('no port');
  return { server, port: address.port };
}

function readLine(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = tcpConnect(port, '127.0.0.1');
    let text = '';
    socket.on('data', (chunk) => {
      text += chunk.toString();
    });
    socket.on('close', () => resolve(text.trim()));
    socket.on('error', reject);
  });
}

async function until(condition: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function makeTunnel(clusters: Clusters, refuseFirst = 0) {
  const opened: LocalConnection[] = [];
  let secretReads = 0;
  const tunnel = new MonitoringTunnel({
    namespace: 'ns',
    clusterName: undefined,
    bindHost: '127.0.0.1',
    grafanaPort: 0,
    prometheusPort: 0,
    clusters,
    readSecret: async () => {
      secretReads += 1;
      return { privateKey: 'KEY', knownHosts: 'HOSTS' };
    },
    openConnection: (options) => {
      const connection = new LocalConnection(options, opened.length < refuseFirst);
      opened.push(connection);
      return connection;
    },
    logger: pino({ level: 'silent' }),
    rebuildDelayMs: { initial: 20, max: 100 },
  });
  cleanups.push(() => tunnel.stop());
  return { tunnel, opened, secretReads: () => secretReads };
}

describe('MonitoringTunnel', () => {
  it('is not ready, and says why, while there is no SlurmCluster', async () => {
    const { tunnel } = makeTunnel(new Clusters());
    await tunnel.start();
    expect(tunnel.readiness()).toMatchObject({
      ready: false,
      problem: 'no SlurmCluster in namespace ns yet',
    });
  });

  it('is not ready while the status has no monitoring endpoints, and ready once they appear', async () => {
    const clusters = new Clusters();
    clusters.objects = [slurmCluster(undefined)];
    const { tunnel } = makeTunnel(clusters);
    await tunnel.start();
    expect(tunnel.readiness()).toMatchObject({
      ready: false,
      ssh: 'connected',
      problem: expect.stringMatching(/no monitoring endpoints/),
    });
    const grafana = await fakeGrafana('grafana-1');
    cleanups.push(() => void grafana.server.close());
    clusters.set([slurmCluster(`127.0.0.1:${grafana.port}`)]);
    await until(() => tunnel.readiness().ready);
  });

  it('follows Grafana to its new port without reconnecting SSH', async () => {
    const first = await fakeGrafana('grafana-on-first-port');
    const second = await fakeGrafana('grafana-on-second-port');
    cleanups.push(
      () => void first.server.close(),
      () => void second.server.close(),
    );
    const clusters = new Clusters();
    clusters.objects = [slurmCluster(`127.0.0.1:${first.port}`)];
    const { tunnel, opened } = makeTunnel(clusters);
    await tunnel.start();
    const local = tunnel.readiness().ports.grafana ?? 0;
    expect(await readLine(local)).toBe('grafana-on-first-port');

    clusters.set([slurmCluster(`127.0.0.1:${second.port}`)]);
    await until(() => tunnel.readiness().grafana === `127.0.0.1:${second.port}`);
    expect(await readLine(local)).toBe('grafana-on-second-port');
    expect(opened).toHaveLength(1);
  });

  it('rebuilds the connection from a fresh read of the Secret when SSH gives up', async () => {
    const grafana = await fakeGrafana('grafana');
    cleanups.push(() => void grafana.server.close());
    const clusters = new Clusters();
    clusters.objects = [slurmCluster(`127.0.0.1:${grafana.port}`)];
    const { tunnel, opened, secretReads } = makeTunnel(clusters, 2);
    await tunnel.start();
    expect(tunnel.readiness()).toMatchObject({
      ready: false,
      problem: expect.stringMatching(/SSH failed \(AuthFailed\)/),
    });
    await until(() => tunnel.readiness().ready);
    expect(opened).toHaveLength(3);
    expect(secretReads()).toBe(3);
    expect(await readLine(tunnel.readiness().ports.grafana ?? 0)).toBe('grafana');
  });
});
