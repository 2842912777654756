import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, posix } from 'node:path';
import type { SlurmClusterStatus } from '../../crds/index.js';
import { shellQuote } from '../../slurm-bridge/index.js';
import { E2eEnvironment } from '../e2e/environment.js';
import { kubectl } from '../support/kube-cli.js';
import { remote } from '../support/ssh.js';

/**
 * The end-to-end environment (own namespace, Secret from the sandbox's key, operator as a child process),
 * with a SlurmCluster sized for these tests: a 15-minute, 1 GB monitoring job on `cpu`, and a work dir of
 * its own under the login user's home, unique per run so two runs never adopt each other's jobs.
 */
export class ClusterTestEnvironment extends E2eEnvironment {
  override readonly workDir: string;

  constructor(namespace: string) {
    super(namespace);
    this.workDir = posix.join(posix.dirname(this.hpc.workDir), `ibo-cluster-test-${namespace}`);
  }

  override slurmClusterManifest(monitoring: boolean): Record<string, unknown> {
    return this.clusterManifest(this.clusterName, this.secretName, monitoring);
  }

  clusterManifest(name: string, secretName: string, monitoring: boolean): Record<string, unknown> {
    return {
      apiVersion: 'hpcbench.io/v1alpha1',
      kind: 'SlurmCluster',
      metadata: { name, namespace: this.namespace },
      spec: {
        host: this.hpc.ssh.host,
        port: this.hpc.ssh.port,
        user: this.hpc.ssh.user,
        sshSecretRef: { name: secretName },
        workDir: this.workDir,
        containerRuntime: 'native',
        defaults: { clientPartition: 'cpu' },
        monitoring: { enabled: monitoring, time: '00:15:00', memGB: 1 },
      },
    };
  }

  /** A Secret with the sandbox's private key and a known_hosts line for the right name but another key. */
  async applySecretWithWrongHostKey(name: string): Promise<void> {
    const dir = mkdtempSync(join(tmpdir(), 'ibo-wrong-hostkey-'));
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(dir, 'key')]);
    const publicKey = readFileSync(join(dir, 'key.pub'), 'utf8').trim().split(/\s+/).slice(0, 2).join(' ');
    const hostName =
      this.hpc.ssh.port === 22 ? this.hpc.ssh.host : `[${this.hpc.ssh.host}]:${this.hpc.ssh.port}`;
    await this.apply({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name, namespace: this.namespace },
      type: 'Opaque',
      stringData: {
        privateKey: readFileSync(this.hpc.ssh.privateKeyPath, 'utf8'),
        knownHosts: `${hostName} ${publicKey}\n`,
      },
    });
  }

  async getCluster(name = this.clusterName): Promise<ClusterObject | undefined> {
    const result = await kubectl(['-n', this.namespace, 'get', 'slurmcluster', name, '-o', 'json']);
    if (result.code !== 0) {
      if (result.stderr.includes('NotFound')) return undefined;
      throw new Error(result.stderr);
    }
    return JSON.parse(result.stdout) as ClusterObject;
  }

  /** Rows of squeue (every state) whose --comment is the monitoring tag of a SlurmCluster uid. */
  async monitoringJobsOf(uid: string): Promise<Awaited<ReturnType<E2eEnvironment['squeue']>>> {
    return (await this.squeue()).filter((job) => job.comment === `ibo-mon-${uid}`);
  }

  /** The run's remote work dir (monitoring data, logs); its jobs must be gone first. */
  async removeWorkDir(): Promise<void> {
    await remote(this.hpc.ssh, `rm -rf -- ${shellQuote(this.workDir)}`);
  }

  async scancel(ids: readonly string[]): Promise<void> {
    if (ids.length > 0) await remote(this.hpc.ssh, `scancel ${ids.map((id) => Number(id)).join(' ')}`);
  }
}

export interface ClusterObject {
  metadata: { name: string; uid: string; generation: number; finalizers?: string[] };
  status?: SlurmClusterStatus;
}

export function conditionOf(
  object: ClusterObject | undefined,
  type: string,
): NonNullable<SlurmClusterStatus['conditions']>[number] | undefined {
  return object?.status?.conditions?.find((condition) => condition.type === type);
}
