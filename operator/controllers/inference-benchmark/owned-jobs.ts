import { isTerminal, type JobInfo } from '../../../slurm-bridge/index.js';
import type { ClusterSession } from '../../cluster/types.js';

/**
 * Finding the jobs a benchmark owns by their `--comment` tag, never by what status remembers: status may
 * lag behind sbatch (a crash between the two), the tag never does.
 */
export interface OwnedJobFinder {
  /**
   * The SSH user's jobs whose tag starts with `tagPrefix` (every run of one benchmark), listed by a squeue
   * that started after the call. With `names`, only jobs of those names are listed (slurmctld filters):
   * the jobs of a run always carry its roles' names, so a caller that knows them asks for no more.
   */
  withTagPrefix(session: ClusterSession, tagPrefix: string, names?: readonly string[]): Promise<JobInfo[]>;
}

export const squeueOwnedJobFinder: OwnedJobFinder = {
  // Through the session's SlurmClient, so the command is counted in ibo_slurm_commands_total, and the
  // listings of one reconcile wave share a squeue (SlurmClient.listMine).
  async withTagPrefix(session, tagPrefix, names) {
    const jobs = await session.slurm.listMine(names ? { names } : {});
    return jobs.filter((job) => job.comment?.startsWith(tagPrefix) ?? false);
  },
};

/**
 * The job of one role of one run among `jobs`, if Slurm has one: a live job first, else the latest finished
 * one (a job that already failed is reported, not replaced).
 */
export function pickAdoptable(jobs: readonly JobInfo[], tag: string, name: string): JobInfo | undefined {
  const byNewest = jobs
    .filter((job) => job.comment === tag && job.name === name)
    .sort((a, b) => Number(b.id) - Number(a.id));
  return byNewest.find((job) => !isTerminal(job.state)) ?? byNewest[0];
}
