import type { SubmitRequest } from '../../../../slurm-bridge/index.js';

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
