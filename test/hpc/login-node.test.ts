import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requireHpc } from '../sandbox/description.js';
import { cancelJobs, jobScript, submitJob, waitForJobState } from '../support/slurm.js';
import { remote, runRemote } from '../support/ssh.js';

// The sandbox's sshd is the login node: only the generated key of the dedicated user gets in, and only
// against the recorded host key; that user can drive SLURM.
describe('the login node', () => {
  const hpc = requireHpc();
  let scratch = '';

  beforeAll(() => {
    scratch = mkdtempSync(join(tmpdir(), 'ibo-login-'));
  });
  afterAll(() => {
    rmSync(scratch, { recursive: true, force: true });
  });

  function freshKey(name: string): { privateKey: string; publicKey: string } {
    const privateKey = join(scratch, name);
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', privateKey]);
    return { privateKey, publicKey: readFileSync(`${privateKey}.pub`, 'utf8') };
  }

  it('lets the dedicated user in with the generated key and known_hosts', async () => {
    expect((await remote(hpc.ssh, 'id -un')).trim()).toBe(hpc.ssh.user);
  });

  it('refuses to connect when the server presents a host key other than the recorded one', async () => {
    const impostor = freshKey('impostor-host-key');
    const knownHostsPath = join(scratch, 'wrong_known_hosts');
    const [keyType, keyBlob] = impostor.publicKey.split(' ');
    writeFileSync(knownHostsPath, `[${hpc.ssh.host}]:${hpc.ssh.port} ${keyType} ${keyBlob}\n`);
    const result = await runRemote({ ...hpc.ssh, knownHostsPath }, 'id -un');
    expect(result.code).toBe(255);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(/Host key verification failed/);
  });

  it('refuses to connect when the host is not in known_hosts at all', async () => {
    const knownHostsPath = join(scratch, 'empty_known_hosts');
    writeFileSync(knownHostsPath, '');
    const result = await runRemote({ ...hpc.ssh, knownHostsPath }, 'id -un');
    expect(result.code).toBe(255);
    expect(result.stderr).toMatch(/Host key verification failed/);
  });

  it('offers public-key authentication only', async () => {
    const result = await runRemote(hpc.ssh, 'id -un', {
      sshOptions: ['-o', 'PubkeyAuthentication=no', '-o', 'PasswordAuthentication=yes'],
    });
    expect(result.code).toBe(255);
    expect(result.stderr).toMatch(/Permission denied \(publickey\)/);
  });

  it('refuses a key that is not authorized', async () => {
    const stranger = freshKey('stranger');
    const result = await runRemote({ ...hpc.ssh, privateKeyPath: stranger.privateKey }, 'id -un');
    expect(result.code).toBe(255);
    expect(result.stderr).toMatch(/Permission denied/);
  });

  it('has every binary of the description on the non-interactive PATH', async () => {
    const names = [
      'ollama',
      'prometheus',
      'promtool',
      'prometheus-pushgateway',
      'prometheus-node-exporter',
      'node',
    ];
    const found = (await remote(hpc.ssh, `command -v ${names.join(' ')}`)).trim().split('\n');
    const b = hpc.bin;
    expect(found).toEqual([b.ollama, b.prometheus, b.promtool, b.pushgateway, b.nodeExporter, b.node]);
    expect(await remote(hpc.ssh, 'ollama --version 2>&1')).toMatch(/\d+\.\d+\.\d+/);
  });

  it('submits, lists and cancels a job with any --account, in both partitions', async () => {
    const ids: string[] = [];
    try {
      for (const partition of hpc.slurm.partitions) {
        ids.push(
          await submitJob(hpc.ssh, jobScript('sleep'), [
            `--partition=${partition}`,
            '--account=ibo-any-account',
          ]),
        );
      }
      const listed = await remote(hpc.ssh, `squeue -h -u ${hpc.ssh.user} -j ${ids.join(',')} -o '%i|%P|%a'`);
      const rows = listed.trim().split('\n').sort();
      expect(rows).toEqual(ids.map((id, i) => `${id}|${hpc.slurm.partitions[i]}|ibo-any-account`).sort());
      await cancelJobs(hpc.ssh, ids);
      for (const id of ids) expect(await waitForJobState(hpc.ssh, id, ['CANCELLED'])).toBe('CANCELLED');
    } finally {
      await cancelJobs(hpc.ssh, ids).catch(() => undefined);
    }
  });

  it('writes job output into the known job output folder', async () => {
    const marker = `ibo-output-${Date.now()}`;
    const id = await submitJob(hpc.ssh, `#!/bin/bash\necho ${marker} on $SLURM_JOB_PARTITION\n`, [
      `--output=${hpc.slurm.jobOutputDir}/%j.out`,
    ]);
    await waitForJobState(hpc.ssh, id, ['COMPLETED']);
    expect(await remote(hpc.ssh, `cat ${hpc.slurm.jobOutputDir}/${id}.out`)).toBe(`${marker} on cpu\n`);
  });

  it('gives gpu jobs distinct fake GPUs', async () => {
    const script = '#!/bin/bash\necho "$CUDA_VISIBLE_DEVICES"\n';
    const out = `--output=${hpc.slurm.jobOutputDir}/%j.out`;
    const first = await submitJob(hpc.ssh, script, ['--partition=gpu', '--gres=gpu:2', out]);
    const second = await submitJob(hpc.ssh, script, ['--partition=gpu', '--gres=gpu:1', out]);
    await waitForJobState(hpc.ssh, first, ['COMPLETED']);
    await waitForJobState(hpc.ssh, second, ['COMPLETED']);
    expect((await remote(hpc.ssh, `cat ${hpc.slurm.jobOutputDir}/${first}.out`)).trim()).toMatch(/^\d,\d$/);
    expect((await remote(hpc.ssh, `cat ${hpc.slurm.jobOutputDir}/${second}.out`)).trim()).toMatch(/^\d$/);
  });
});
