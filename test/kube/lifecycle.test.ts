import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { KubeSandbox } from '../sandbox/description.js';

// A second, private control plane (own state folder and ports) so that restarting it never disturbs the
// shared sandbox that other tests use.
const kubeShell = join(dirname(fileURLToPath(import.meta.url)), '../sandbox/lib/kube.sh');
const stateDir = mkdtempSync(join(tmpdir(), 'ibo-kube-lifecycle-'));

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no TCP address');
  return address.port;
}

const ports = {
  apiserver: await freePort(),
  etcdClient: await freePort(),
  etcdPeer: await freePort(),
  controllerManager: await freePort(),
};
const env = {
  ...process.env,
  IBO_SANDBOX_DIR: stateDir,
  IBO_KUBE_APISERVER_PORT: String(ports.apiserver),
  IBO_KUBE_ETCD_CLIENT_PORT: String(ports.etcdClient),
  IBO_KUBE_ETCD_PEER_PORT: String(ports.etcdPeer),
  IBO_KUBE_CONTROLLER_MANAGER_PORT: String(ports.controllerManager),
};

async function kubeSh(...args: string[]): Promise<{ code: number; stdout: string }> {
  return promisify(execFile)('bash', [kubeShell, ...args], { env }).then(
    ({ stdout }) => ({ code: 0, stdout }),
    (error: { code?: number; stdout?: string }) => ({ code: error.code ?? -1, stdout: error.stdout ?? '' }),
  );
}

type Daemon = 'etcd' | 'kube-apiserver' | 'kube-controller-manager';
const daemons: Daemon[] = ['etcd', 'kube-apiserver', 'kube-controller-manager'];

function pidOf(name: Daemon): number {
  return Number(readFileSync(join(stateDir, 'kube', `${name}.pid`), 'utf8').trim());
}

function isRunning(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The state letter follows the command name in parentheses; a zombie has exited.
    return !/\) Z /.test(stat);
  } catch {
    return false;
  }
}

describe('kube.sh up, status and down on a private state folder', () => {
  afterAll(async () => {
    await kubeSh('down', '--purge');
    rmSync(stateDir, { recursive: true, force: true });
  });

  it('up starts etcd, kube-apiserver and kube-controller-manager on loopback and writes the description fragment', async () => {
    expect((await kubeSh('up')).code).toBe(0);
    const fragment = KubeSandbox.parse(JSON.parse(readFileSync(join(stateDir, 'kube.json'), 'utf8')));
    expect(fragment.server).toBe(`https://127.0.0.1:${ports.apiserver}`);
    const status = await kubeSh('status');
    expect(status.code).toBe(0);
    expect(status.stdout).toContain('kube-apiserver: ready');
    expect(status.stdout).toContain('kube-controller-manager: healthy');
    for (const port of Object.values(ports)) {
      const { stdout } = await promisify(execFile)('ss', ['-Htln', `sport = :${port}`]);
      expect(
        stdout
          .trim()
          .split('\n')
          .map((line) => line.split(/\s+/)[3]),
      ).toEqual([`127.0.0.1:${port}`]);
    }
  });

  it('a second up keeps the running processes', async () => {
    const before = daemons.map(pidOf);
    expect((await kubeSh('up')).code).toBe(0);
    expect(daemons.map(pidOf)).toEqual(before);
  });

  it('down stops every process by PID, and status then reports them down', async () => {
    const pids = daemons.map(pidOf);
    expect((await kubeSh('down')).code).toBe(0);
    expect(pids.filter(isRunning)).toEqual([]);
    const status = await kubeSh('status');
    expect(status.code).not.toBe(0);
    expect(status.stdout).toContain('kube-apiserver: down');
  });
});
