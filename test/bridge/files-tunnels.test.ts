import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import { posix } from 'node:path';
import { fetch } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { shellQuote } from '../../slurm-bridge/shell/quote.js';
import type { SshConnection } from '../../slurm-bridge/ssh/connection.js';
import { PathOutsideWorkDirError } from '../../slurm-bridge/ssh/errors.js';
import { RemoteFiles } from '../../slurm-bridge/ssh/sftp.js';
import { requireHpc } from '../sandbox/description.js';
import { connectToSandbox } from './sandbox-connection.js';

const hpc = requireHpc();
const testDir = `bridge-files-${randomUUID()}`;
let connection: SshConnection;
let files: RemoteFiles;

beforeAll(async () => {
  connection = connectToSandbox();
  files = new RemoteFiles(connection, hpc.workDir);
});
afterAll(async () => {
  await connection.exec(`rm -rf -- ${shellQuote(posix.join(hpc.workDir, testDir))}`);
  await connection.close();
});

describe('files over SFTP, confined to the work dir', () => {
  it('uploads atomically with the requested mode, then reads, lists and tails', async () => {
    const path = `${testDir}/sub/dir/token`;
    const absolute = await files.uploadAtomic(path, 'secret-token\n', 0o600);
    expect(absolute).toBe(posix.join(hpc.workDir, path));
    const stat = await connection.exec(`stat -c %a ${shellQuote(absolute)}`);
    expect(stat.stdout.trim()).toBe('600');
    expect(await files.readFile(path)).toBe('secret-token\n');
    await files.uploadAtomic(path, 'replaced\n', 0o600);
    expect(await files.readFile(path)).toBe('replaced\n');
    const listing = await files.list(`${testDir}/sub/dir`);
    // No temp file is left behind.
    expect(listing.map((entry) => entry.name)).toEqual(['token']);
    const lines = Array.from({ length: 5000 }, (_, i) => `line ${i}`).join('\n');
    await files.uploadAtomic(`${testDir}/log.txt`, `${lines}\n`);
    const tail = await files.tail(`${testDir}/log.txt`, 100);
    expect(tail.endsWith('line 4999\n')).toBe(true);
    expect(tail.startsWith('line ')).toBe(true);
    expect(await files.readFileIfExists(`${testDir}/missing`)).toBeNull();
  });

  it.each([
    ['a climb out of the work dir', '../.ssh/authorized_keys'],
    ['an absolute path elsewhere', '/tmp/ibo-escape'],
    ['a sibling with the same prefix', `${hpc.workDir}-evil/x`],
  ])('rejects an upload to %s', async (_label, path) => {
    await expect(files.uploadAtomic(path, 'x')).rejects.toBeInstanceOf(PathOutsideWorkDirError);
  });

  it('rejects a path that leaves the work dir through a symlink', async () => {
    await files.mkdirp(testDir);
    await connection.exec(`ln -sfn /tmp ${shellQuote(posix.join(hpc.workDir, testDir, 'escape'))}`);
    await expect(files.uploadAtomic(`${testDir}/escape/ibo-escaped`, 'x')).rejects.toBeInstanceOf(
      PathOutsideWorkDirError,
    );
    const leaked = await connection.exec('test -e /tmp/ibo-escaped; echo $?');
    expect(leaked.stdout.trim()).toBe('1');
  });
});

describe('tunnels through direct-tcpip channels', () => {
  let server: ReturnType<typeof createServer>;
  let port = 0;
  let secondServer: ReturnType<typeof createServer>;
  let secondPort = 0;

  beforeAll(async () => {
    const listen = (name: string) =>
      new Promise<[ReturnType<typeof createServer>, number]>((resolve) => {
        const s = createServer((req, res) => res.end(`${name} ${req.url}`));
        s.listen(0, '127.0.0.1', () => {
          const address = s.address();
          resolve([s, typeof address === 'object' && address ? address.port : 0]);
        });
      });
    [server, port] = await listen('first');
    [secondServer, secondPort] = await listen('second');
  });
  afterAll(async () => {
    server.close();
    secondServer.close();
  });

  it('forward() works as an undici dispatcher for many requests at once', async () => {
    const forward = connection.forward('127.0.0.1', port);
    const bodies = await Promise.all(
      Array.from({ length: 20 }, async (_, i) =>
        (await fetch(forward.url(`/r${i}`), { dispatcher: forward })).text(),
      ),
    );
    expect(bodies).toEqual(Array.from({ length: 20 }, (_, i) => `first /r${i}`));
    await forward.close();
  });

  it('forward() also serves node:http through its httpAgent', async () => {
    const forward = connection.forward('127.0.0.1', port);
    const { request } = await import('node:http');
    const body = await new Promise<string>((resolve, reject) => {
      request(forward.url('/agent'), { agent: forward.httpAgent }, (res) => {
        let text = '';
        res.on('data', (chunk: Buffer) => {
          text += chunk.toString();
        });
        res.on('end', () => resolve(text));
      })
        .on('error', reject)
        .end();
    });
    expect(body).toBe('first /agent');
    await forward.close();
  });

  it('a local listener follows its target when it moves', async () => {
    let target = { host: '127.0.0.1', port };
    const listener = await connection.listen(0, () => target);
    const first = await (await fetch(`http://127.0.0.1:${listener.port}/x`)).text();
    target = { host: '127.0.0.1', port: secondPort };
    const second = await (await fetch(`http://127.0.0.1:${listener.port}/y`)).text();
    expect([first, second]).toEqual(['first /x', 'second /y']);
    await listener.close();
  });

  it('a forward to a closed port fails the request instead of hanging', async () => {
    const forward = connection.forward('127.0.0.1', 1);
    await expect(fetch(forward.url('/'), { dispatcher: forward })).rejects.toThrow();
    await forward.close();
  });
});
