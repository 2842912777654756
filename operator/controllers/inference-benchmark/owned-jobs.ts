import type { JobInfo, SlurmClient } from '../../../slurm-bridge/index.js';
import { CommandFailedError, tail } from '../../../slurm-bridge/index.js';
import { buildSqueueCommand, parseSqueueOutput } from '../../../slurm-bridge/slurm/squeue.js';
import type { ClusterSession } from '../../cluster/types.js';

/**
 * Finding the jobs a benchmark owns by their `--comment` tag, never by what status remembers: status may
 * lag behind sbatch (a crash between the two), the tag never does.
 */
export interface OwnedJobFinder {
  /** The SSH user's jobs whose tag starts with `tagPrefix` (every run of one benchmark). */
  withTagPrefix(session: ClusterSession, tagPrefix: string): Promise<JobInfo[]>;
}

export const squeueOwnedJobFinder: OwnedJobFinder = {
  async withTagPrefix(session, tagPrefix) {
    const result = await session.connection.exec(buildSqueueCommand({ mine: true }), { timeoutSeconds: 30 });
    if (result.code !== 0) throw new CommandFailedError('squeue --me', result.code, tail(result.stderr));
    return parseSqueueOutput(result.stdout).jobs.filter((job) => job.comment?.startsWith(tagPrefix) ?? false);
  },
};

/**
 * The job of one role of one run, if Slurm has one: a live job first, else the latest finished one (a job
 * that already failed is reported, not replaced).
 */
export async function adoptJob(slurm: SlurmClient, tag: string, name: string): Promise<JobInfo | undefined> {
  const jobs = (await slurm.findJobsByTag(tag)).filter((job) => job.name === name);
  const byNewest = [...jobs].sort((a, b) => Number(b.id) - Number(a.id));
  return (
    byNewest.find(
      (job) =>
        !['COMPLETED', 'CANCELLED', 'FAILED', 'TIMEOUT', 'OUT_OF_MEMORY', 'NODE_FAIL'].includes(job.state),
    ) ?? byNewest[0]
  );
}
