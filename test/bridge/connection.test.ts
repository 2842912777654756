import { generateKeyPairSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import ssh2 from 'ssh2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { shellQuote } from '../../slurm-bridge/shell/quote.js';
import type { ConnectionState, SshConnection } from '../../slurm-bridge/ssh/connection.js';
import {
  AuthFailedError,
  CommandTimeoutError,
  HostKeyMismatchError,
  HostKeyUnknownError,
  InvalidPrivateKeyError,
  UnreachableError,
} from '../../slurm-bridge/ssh/errors.js';
import { readSandbox, requireHpc } from '../sandbox/description.js';
import { connectToSandbox, waitFor } from './sandbox-connection.js';
import { restartSshd } from './sshd-control.js';

const sandbox = readSandbox();
const hpc = requireHpc(sandbox);
let connection: SshConnection;

beforeAll(async () => {
  connection = connectToSandbox();
  await connection.connect();
});
afterAll(async () => {
  await connection?.close();
});

describe('one shared SSH connection to the sandbox login node', () => {
  it('runs a command and reports stdout, stderr and the exit code', async () => {
    const result = await connection.exec('echo out; echo err >&2; exit 7');
    expect(result).toMatchObject({ stdout: 'out\n', stderr: 'err\n', code: 7 });
  });

  it('feeds stdin to the remote command', async () => {
    const result = await connection.exec('wc -c', { stdin: 'x'.repeat(100_000) });
    expect(result.stdout.trim()).toBe('100000');
  });

  it('runs 50 concurrent commands on one connection, holding them below MaxSessions', async () => {
    const before = connection.connects;
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, i) => connection.exec(`sleep 0.2; echo ${i}`)),
    );
    expect(results.map((r) => r.stdout.trim())).toEqual(Array.from({ length: 50 }, (_, i) => String(i)));
    expect(results.every((r) => r.code === 0)).toBe(true);
    expect(connection.sessions.peak).toBeLessThan(10);
    expect(connection.sessions.peak).toBe(connection.options.maxSessions);
    expect(connection.connects).toBe(before);
    console.info(
      `50 concurrent: peak sessions ${connection.sessions.peak}, channel-open retries ${connection.channelRetries}`,
    );
  });

  it('keeps the exit status of commands that end at once (exit-status arrives with the exec reply)', async () => {
    // An instant command's reply, output, exit-status and close can share one socket read; an exit listener
    // attached a microtask late used to miss the status and report a dropped connection.
    const results = await Promise.all(
      Array.from({ length: 200 }, (_, i) => connection.exec(`exit ${i % 3}`)),
    );
    expect(results.map((r) => r.code)).toEqual(Array.from({ length: 200 }, (_, i) => i % 3));
  });

  it('kills a command remotely when its timeout expires', async () => {
    const marker = `ibo-timeout-${process.pid}-${Date.now()}`;
    await expect(connection.exec(`sleep 300 # ${marker}`, { timeoutSeconds: 2 })).rejects.toBeInstanceOf(
      CommandTimeoutError,
    );
    // `[s]leep` matches the sleep but not this pgrep's own command line.
    const left = await connection.exec(`pgrep -f ${shellQuote(`[s]leep 300 # ${marker}`)} || true`);
    expect(left.stdout.trim()).toBe('');
  });

  it('does not mistake a command that exits 124 by itself for a timeout', async () => {
    expect((await connection.exec('exit 124', { timeoutSeconds: 30 })).code).toBe(124);
  });

  it.each([
    ['a command separator', 'x; touch /tmp/pwned-ibo'],
    ['command substitution', '$(touch /tmp/pwned-ibo)'],
    ['backticks', '`touch /tmp/pwned-ibo`'],
    ['quotes', `'"; touch /tmp/pwned-ibo; echo "'`],
    ['a newline', 'a\ntouch /tmp/pwned-ibo'],
  ])('passes a hostile name with %s through shellQuote as data, never as code', async (_label, hostile) => {
    await connection.exec('rm -f /tmp/pwned-ibo');
    const result = await connection.exec(`printf '%s' ${shellQuote(hostile)}`);
    expect(result.stdout).toBe(hostile);
    expect((await connection.exec('test -e /tmp/pwned-ibo; echo $?')).stdout.trim()).toBe('1');
  });

  it('recovers after sshd is restarted in the middle of use', async () => {
    const states: ConnectionState['status'][] = [];
    const onState = (state: ConnectionState) => states.push(state.status);
    connection.on('state', onState);
    const before = connection.connects;
    const web = createServer((_req, res) => res.end('through the tunnel'));
    await new Promise<void>((resolve) => web.listen(0, '127.0.0.1', resolve));
    const webPort = (web.address() as AddressInfo).port;
    const listener = await connection.listen(0, () => ({ host: '127.0.0.1', port: webPort }));
    const inFlight = connection.exec('sleep 20; echo late').catch((err: Error) => err);
    await connection.exec('true');
    await restartSshd(hpc, sandbox.stateDir);
    const interrupted = await inFlight;
    expect(interrupted).toBeInstanceOf(Error);
    // The in-flight command's channel can close a moment before the client itself reports the dropped
    // transport; a command sent in that moment fails with ConnectionLost by design (a started command is
    // never re-run). Send the next ones once the connection has noticed.
    await waitFor(
      'the connection to notice the restart',
      async () => (states.some((state) => state !== 'connected') ? true : undefined),
      { timeoutMs: 30_000, intervalMs: 50 },
    );
    const results = await Promise.all(
      Array.from({ length: 5 }, (_, i) => connection.exec(`echo after-${i}`)),
    );
    expect(results.map((r) => r.stdout.trim())).toEqual([
      'after-0',
      'after-1',
      'after-2',
      'after-3',
      'after-4',
    ]);
    expect(connection.connects).toBe(before + 1);
    expect(connection.state.status).toBe('connected');
    expect(states).toContain('connecting');
    // A local listener opened before the restart keeps working: each new connection uses the new session.
    expect(await (await fetch(`http://127.0.0.1:${listener.port}/`)).text()).toBe('through the tunnel');
    await listener.close();
    web.close();
    connection.off('state', onState);
  });
});

describe('refusals', () => {
  it('refuses a wrong known_hosts entry with a host-key mismatch', async () => {
    const wrongKey = generateKeyPairSync('ed25519')
      .publicKey.export({ type: 'spki', format: 'der' })
      .subarray(12);
    const blob = Buffer.concat([
      Buffer.from([0, 0, 0, 11]),
      Buffer.from('ssh-ed25519'),
      Buffer.from([0, 0, 0, 32]),
      wrongKey,
    ]);
    const bad = connectToSandbox({
      knownHosts: `[${hpc.ssh.host}]:${hpc.ssh.port} ssh-ed25519 ${blob.toString('base64')}\n`,
    });
    await expect(bad.connect()).rejects.toBeInstanceOf(HostKeyMismatchError);
    expect(bad.state).toMatchObject({ status: 'failed', reason: 'HostKeyMismatch' });
    await bad.close();
  });

  it('refuses a host that known_hosts does not list', async () => {
    const real = readFileSync(hpc.ssh.knownHostsPath, 'utf8');
    const otherHostOnly = real.replaceAll(`[${hpc.ssh.host}]:${hpc.ssh.port}`, '[other.example]:22');
    for (const knownHosts of ['', otherHostOnly]) {
      const bad = connectToSandbox({ knownHosts });
      await expect(bad.connect()).rejects.toBeInstanceOf(HostKeyUnknownError);
      await bad.close();
    }
  });

  it('reports a key the server does not accept as AuthFailed, without retrying', async () => {
    const stranger = ssh2.utils.generateKeyPairSync('ed25519').private;
    const wrongKey = connectToSandbox({ privateKey: stranger });
    await expect(wrongKey.connect()).rejects.toBeInstanceOf(AuthFailedError);
    expect(wrongKey.state).toMatchObject({ status: 'failed', reason: 'AuthFailed' });
    expect(wrongKey.connects).toBe(0);
    await wrongKey.close();
    const otherUser = connectToSandbox({ username: 'nobody' });
    await expect(otherUser.connect()).rejects.toBeInstanceOf(AuthFailedError);
    expect(otherUser.state).toMatchObject({ status: 'failed', reason: 'AuthFailed' });
    await otherUser.close();
  });

  it('reports a closed port as Unreachable after its backoff attempts', async () => {
    const bad = connectToSandbox({
      port: 1,
      reconnect: { initialDelayMs: 10, maxDelayMs: 20, maxAttempts: 3 },
    });
    const seen: string[] = [];
    bad.on('state', (state) => seen.push(state.status));
    await expect(bad.connect()).rejects.toBeInstanceOf(UnreachableError);
    expect(seen.filter((s) => s === 'reconnecting')).toHaveLength(2);
    await bad.close();
  });

  it('refuses a private key it cannot parse when the connection is created', () => {
    expect(() => connectToSandbox({ privateKey: 'not a key' })).toThrow(InvalidPrivateKeyError);
  });
});
