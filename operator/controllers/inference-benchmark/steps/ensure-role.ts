import type { InferenceBenchmarkStatus } from '../../../../crds/index.js';
import {
  halt,
  progressing,
  type RunContext,
  requirePaths,
  requireSession,
  STARTING_POLL_MS,
  type StepOutcome,
} from '../context.js';
import { checkJobRunning, ensureJob, type JobOfRole } from '../jobs.js';
import type { RunPaths } from '../run-identity.js';

/**
 * One SLURM job of a run, as data: the server (of the spec's engine, steps/server.ts) and the client
 * service. `ensureRole` does what every role shares; the description says
 * what is particular to it.
 */
export interface RoleDescription extends JobOfRole {
  /** The status.endpoints fields that show where the role's service listens. */
  readonly endpointFields: readonly (keyof NonNullable<InferenceBenchmarkStatus['endpoints']>)[];
  /** The file the job writes its host:port to once its service listens. */
  endpointFile(paths: RunPaths): string;
  /** While the job runs but has not written its endpoint yet: the condition's reason, and who is awaited. */
  readonly starting: { readonly reason: string; readonly service: string };
  /**
   * What the job reports of its own preparation while it runs without an endpoint (the server's model
   * pull), as the condition's reason and message; undefined when it reports nothing yet.
   */
  preparing?(ctx: RunContext): Promise<{ reason: string; message: string } | undefined>;
  /** The job ended under the run: a better reason and message than its SLURM state, when the job left one. */
  explainEnd?(ctx: RunContext, jobId: string): Promise<{ reason: string; message: string } | undefined>;
  /**
   * The job runs and its service listens at `endpoint`: is the role ready? Sets the role's condition and
   * returns "go on" or a halt.
   */
  probe(ctx: RunContext, endpoint: string, jobId: string): Promise<StepOutcome>;
}

/** Adopt or submit the role's job, wait while it pends, read its endpoint file, then probe the service. */
export async function ensureRole(ctx: RunContext, role: RoleDescription): Promise<StepOutcome> {
  const job = await ensureJob(ctx, role);
  if (job.kind === 'halt') return job.outcome;
  const waiting = checkJobRunning(ctx, role, job.id);
  if (waiting) {
    if (ctx.logTail?.jobId === job.id && role.explainEnd) {
      const why = await role.explainEnd(ctx, job.id);
      if (why) {
        ctx.draft.fail(role.condition, why.reason, why.message);
        ctx.logTail = { ...ctx.logTail, reason: why.reason, message: why.message };
      }
    }
    return waiting;
  }
  const endpoint = await jobEndpoint(ctx, job.id, role.endpointFile(requirePaths(ctx)));
  if (!endpoint) {
    const preparing = await role.preparing?.(ctx);
    if (preparing) {
      progressing(ctx, role.condition, preparing.reason, `SLURM job ${job.id}: ${preparing.message}`);
      return halt(STARTING_POLL_MS);
    }
    progressing(
      ctx,
      role.condition,
      role.starting.reason,
      `SLURM job ${job.id} runs; waiting for ${role.starting.service} to listen`,
    );
    return halt(STARTING_POLL_MS);
  }
  ctx.endpoints[role.role] = endpoint;
  const fields = Object.fromEntries(role.endpointFields.map((field) => [field, endpoint]));
  ctx.draft.status.endpoints = { ...ctx.draft.status.endpoints, ...fields };
  return role.probe(ctx, endpoint, job.id);
}

/** A job writes its endpoint once; remembered per job id so a running benchmark costs no SFTP round trip. */
async function jobEndpoint(ctx: RunContext, jobId: string, path: string): Promise<string | undefined> {
  const { memory } = ctx.services;
  const session = requireSession(ctx);
  const known = memory.endpoint(ctx.run.runId, session, jobId);
  if (known) return known;
  const endpoint = (await session.files.readFileIfExists(path))?.trim();
  if (endpoint) memory.rememberEndpoint(ctx.run.runId, session, jobId, endpoint);
  return endpoint || undefined;
}
