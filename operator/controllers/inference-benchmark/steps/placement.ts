import type { SubmitRequest } from '../../../../slurm-bridge/index.js';
import { type RunContext, requirePaths } from '../context.js';
import { type JobRole, jobName } from '../run-identity.js';

/** Where a job goes: only the fields that are set, so Slurm's own defaults apply to the others. */
export function placement(
  partition: string | undefined,
  account: string | undefined,
  qos: string | undefined,
): Partial<SubmitRequest> {
  return {
    ...(partition ? { partition } : {}),
    ...(account ? { account } : {}),
    ...(qos ? { qos } : {}),
  };
}

/** What every job of a run carries: its name, the run's tag (adoption), its log and the run's folder. */
export function runJobFields(
  ctx: RunContext,
  role: JobRole,
): Pick<SubmitRequest, 'name' | 'tag' | 'output' | 'workDir'> {
  const paths = requirePaths(ctx);
  return {
    name: jobName(role, ctx.namespace, ctx.name),
    tag: ctx.run.tag,
    output: paths.log(role),
    workDir: paths.dir,
  };
}
