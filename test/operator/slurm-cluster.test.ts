import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClusterConditionType, ConditionReason, FORCE_DELETE_ANNOTATION } from '../../crds/index.js';
import { metricSum } from '../e2e/environment.js';
import { kubectl, kubectlOk } from '../support/kube-cli.js';
import { openForward } from '../support/ssh.js';
import { waitFor } from '../support/wait.js';
import { type ClusterObject, ClusterTestEnvironment, conditionOf } from './cluster-environment.js';

/**
 * The SlurmCluster controller against the real sandbox: the operator bundle as a child process, the real
 * kube-apiserver, sshd and SLURM. The cases run in order on one cluster object: Ready → wrong host key on a
 * second object → the monitoring job cancelled from outside → operator restart adopts → delete.
 */
const namespace = `ibo-sc-${randomBytes(3).toString('hex')}`;
const env = new ClusterTestEnvironment(namespace);
const WRONG_HOST_KEY_CLUSTER = 'wrong-host-key';

function splitHostPort(endpoint: string): { host: string; port: number } {
  const at = endpoint.lastIndexOf(':');
  return { host: endpoint.slice(0, at), port: Number(endpoint.slice(at + 1)) };
}

/** Waits until the cluster is Ready and MonitoringReady with endpoints, and returns that object. */
async function waitMonitoringReady(what: string, accept: (object: ClusterObject) => boolean = () => true) {
  return waitFor(
    what,
    async () => {
      const object = await env.getCluster();
      const ready = conditionOf(object, ClusterConditionType.Ready);
      const monitoring = conditionOf(object, ClusterConditionType.MonitoringReady);
      if (!object || ready?.status !== 'True' || monitoring?.status !== 'True') {
        if (env.operator && env.operator.child.exitCode !== null)
          throw new Error(`operator exited: ${env.operatorLogTail()}`);
        throw new Error(`conditions: ${JSON.stringify(object?.status?.conditions)}`);
      }
      return object.status?.monitoring?.prometheus && accept(object) ? object : undefined;
    },
    { timeoutMs: 240_000, intervalMs: 1000 },
  );
}

async function setMonitoringTime(time: string): Promise<void> {
  await kubectlOk([
    '-n',
    namespace,
    'patch',
    'slurmcluster',
    env.clusterName,
    '--type=merge',
    '-p',
    JSON.stringify({ spec: { monitoring: { time } } }),
  ]);
}

/** Messages of the Events with this reason on the test's SlurmCluster, oldest first. */
async function eventMessages(reason: string): Promise<string[]> {
  const events = JSON.parse(
    await kubectlOk([
      '-n',
      namespace,
      'get',
      'events',
      '--field-selector',
      `involvedObject.name=${env.clusterName},reason=${reason}`,
      '-o',
      'json',
    ]),
  ) as { items: Array<{ message?: string }> };
  return events.items.map((event) => event.message ?? '');
}

async function liveJobState(id: string): Promise<string | undefined> {
  return (await env.squeue()).find((job) => job.id === id)?.state;
}

describe('SlurmCluster controller on the sandbox', () => {
  let uid = '';
  let firstJobId = '';

  beforeAll(async () => {
    await env.setUp({ monitoring: true });
    await env.startOperator({ bundle: true });
  });

  afterAll(async () => {
    try {
      await kubectl([
        '-n',
        namespace,
        'annotate',
        'slurmcluster',
        WRONG_HOST_KEY_CLUSTER,
        `${FORCE_DELETE_ANNOTATION}=true`,
        '--overwrite',
      ]);
      await env.tearDown();
    } finally {
      // Whatever a failed case left: every monitoring job this run's cluster ever had.
      if (uid) {
        const live = (await env.monitoringJobsOf(uid)).filter((job) =>
          ['PENDING', 'RUNNING'].includes(job.state),
        );
        await env.scancel(live.map((job) => job.id));
      }
      // Best effort: a cancelled job's Prometheus may still be flushing into it for a moment.
      await env.removeWorkDir().catch(() => undefined);
    }
  });

  it('becomes Ready with the Slurm version and partitions, and MonitoringReady with the endpoints of a running job', async () => {
    const object = await waitMonitoringReady('Ready and MonitoringReady');
    uid = object.metadata.uid;
    expect(object.status?.slurmVersion).toBe(env.hpc.slurm.version);
    const partitions = (object.status?.partitions ?? []).map((partition) => partition.name).sort();
    expect(partitions).toEqual([...env.hpc.slurm.partitions].sort());
    expect(object.metadata.finalizers).toContain('hpcbench.io/cancel-monitoring-job');
    expect(conditionOf(object, ClusterConditionType.MonitoringReady)?.reason).toBe(
      ConditionReason.MonitoringAvailable,
    );

    const monitoring = object.status?.monitoring;
    firstJobId = monitoring?.jobId ?? '';
    expect(firstJobId).toMatch(/^\d+$/);
    expect(monitoring?.pushgateway).toMatch(/:\d+$/);
    // squeue over a separate ssh login, not the operator's connection.
    const jobs = await env.monitoringJobsOf(uid);
    expect(jobs.filter((job) => job.state === 'RUNNING').map((job) => job.id)).toEqual([firstJobId]);
    expect(jobs.find((job) => job.id === firstJobId)?.workDir.startsWith(env.workDir)).toBe(true);

    const { host, port } = splitHostPort(monitoring?.prometheus ?? '');
    const forward = await openForward(env.hpc.ssh, host, port);
    try {
      const response = await fetch(`${forward.url}/-/ready`);
      expect(response.status).toBe(200);
      expect(await response.text()).toMatch(/ready/i);
    } finally {
      await forward.close();
    }
  });

  it('reports a wrong known_hosts entry as Ready=False HostKeyMismatch with a message that says what to do, and keeps serving the good cluster', async () => {
    await env.applySecretWithWrongHostKey('wrong-host-key-ssh');
    await env.apply(env.clusterManifest(WRONG_HOST_KEY_CLUSTER, 'wrong-host-key-ssh', true));
    const object = await waitFor(
      'Ready=False on the cluster with the wrong host key',
      async () => {
        const cluster = await env.getCluster(WRONG_HOST_KEY_CLUSTER);
        return conditionOf(cluster, ClusterConditionType.Ready)?.status === 'False' ? cluster : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 500 },
    );
    const ready = conditionOf(object, ClusterConditionType.Ready);
    expect(ready?.reason).toBe(ConditionReason.HostKeyMismatch);
    expect(ready?.message).toContain(`[${env.hpc.ssh.host}]:${env.hpc.ssh.port}`);
    expect(ready?.message).toMatch(/does not match known_hosts/);
    expect(ready?.message).toMatch(/SHA256:/);
    expect(conditionOf(object, ClusterConditionType.MonitoringReady)?.status).toBe('False');
    // No crash, and the good cluster is untouched.
    expect(env.operator?.child.exitCode).toBeNull();
    const good = await env.getCluster();
    expect(conditionOf(good, ClusterConditionType.Ready)?.status).toBe('True');
    expect(good?.status?.monitoring?.jobId).toBe(firstJobId);
    // Unreachable means fail-closed deletion: the admin annotation lets it go.
    await kubectlOk([
      '-n',
      namespace,
      'annotate',
      'slurmcluster',
      WRONG_HOST_KEY_CLUSTER,
      `${FORCE_DELETE_ANNOTATION}=true`,
    ]);
    await kubectlOk(['-n', namespace, 'delete', 'slurmcluster', WRONG_HOST_KEY_CLUSTER, '--timeout=60s']);
  });

  it('resubmits the monitoring job when it is cancelled from outside (new job id, MonitoringReady back to True)', async () => {
    // The resubmitted job gets a one-minute limit, for the time-limit case that follows.
    await setMonitoringTime('00:01:00');
    await env.scancel([firstJobId]);
    const object = await waitMonitoringReady(
      'a new monitoring job after the external scancel',
      (candidate) => (candidate.status?.monitoring?.jobId ?? firstJobId) !== firstJobId,
    );
    const newJobId = object.status?.monitoring?.jobId ?? '';
    expect(Number(newJobId)).toBeGreaterThan(Number(firstJobId));
    expect(await liveJobState(newJobId)).toBe('RUNNING');
    expect(await liveJobState(firstJobId)).toBe('CANCELLED');
    const live = (await env.monitoringJobsOf(uid)).filter((job) =>
      ['PENDING', 'RUNNING'].includes(job.state),
    );
    expect(live.map((job) => job.id)).toEqual([newJobId]);
    expect(await eventMessages('MonitoringJobEnded')).toContainEqual(
      expect.stringContaining(`monitoring job ${firstJobId} ended: CANCELLED`),
    );
    firstJobId = newJobId;
    // Jobs submitted from now on run 15 minutes again.
    await setMonitoringTime('00:15:00');
  });

  it('resubmits the monitoring job when it hits its time limit', async () => {
    const limited = firstJobId;
    const object = await waitMonitoringReady(
      'a new monitoring job after the time limit',
      (candidate) => (candidate.status?.monitoring?.jobId ?? limited) !== limited,
    );
    firstJobId = object.status?.monitoring?.jobId ?? '';
    expect(await liveJobState(limited)).toBe('TIMEOUT');
    expect(await liveJobState(firstJobId)).toBe('RUNNING');
    expect(await eventMessages('MonitoringJobEnded')).toContainEqual(
      expect.stringContaining(`monitoring job ${limited} ended: TIMEOUT`),
    );
  });

  it('adopts the running monitoring job after an operator restart (same job id, no second sbatch)', async () => {
    const before = await waitMonitoringReady('MonitoringReady before the restart');
    const jobId = before.status?.monitoring?.jobId ?? '';
    await env.stopOperator('SIGKILL');
    await env.startOperator({ bundle: true });
    // The restarted operator must have looked at the cluster itself (the conditions survive from the first
    // run): wait until it finished a reconcile that asked squeue, then check it never ran sbatch.
    const metrics = await waitFor(
      'a finished reconcile of the restarted operator',
      async () => {
        const text = await env.metrics();
        const reconciled = metricSum(text, 'ibo_reconcile_total', 'controller="slurmcluster"');
        const squeues = metricSum(text, 'ibo_slurm_commands_total', 'verb="squeue"');
        return reconciled > 0 && squeues > 0 ? text : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 500 },
    );
    expect(metricSum(metrics, 'ibo_slurm_commands_total', 'verb="sbatch"')).toBe(0);
    const after = await waitMonitoringReady('MonitoringReady after the restart');
    expect(after.status?.monitoring?.jobId).toBe(jobId);
    const jobs = await env.monitoringJobsOf(uid);
    expect(jobs.filter((job) => Number(job.id) > Number(jobId))).toEqual([]);
    expect(jobs.filter((job) => job.state === 'RUNNING').map((job) => job.id)).toEqual([jobId]);
    expect(metricSum(await env.metrics(), 'ibo_slurm_commands_total', 'verb="sbatch"')).toBe(0);
  });

  it('deleting the SlurmCluster cancels its monitoring job, then the object disappears', async () => {
    const object = await env.getCluster();
    const jobId = object?.status?.monitoring?.jobId ?? '';
    expect(jobId).not.toBe('');
    await kubectlOk(['-n', namespace, 'delete', 'slurmcluster', env.clusterName, '--wait=false']);
    await waitFor(
      'the SlurmCluster to disappear',
      async () => ((await env.getCluster()) === undefined ? true : undefined),
      { timeoutMs: 90_000, intervalMs: 500 },
    );
    const state = await liveJobState(jobId);
    expect(['CANCELLED', 'COMPLETING', undefined]).toContain(state);
    const live = (await env.monitoringJobsOf(uid)).filter((job) =>
      ['PENDING', 'RUNNING'].includes(job.state),
    );
    expect(live).toEqual([]);
  });
});
