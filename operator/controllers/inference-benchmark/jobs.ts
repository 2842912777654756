import { BenchmarkConditionType, BenchmarkPhase, ConditionReason } from '../../../crds/index.js';
import {
  isFound,
  isPending,
  isTerminal,
  type JobInfo,
  pendingReasonIsHopeless,
  SbatchError,
  type SubmitRequest,
  sanitizeJobName,
} from '../../../slurm-bridge/index.js';
import type { ClusterSession } from '../../cluster/types.js';
import { findCondition } from '../../runtime/conditions.js';
import {
  halt,
  progressing,
  type RunContext,
  requirePaths,
  requireSession,
  STARTING_POLL_MS,
  type StepOutcome,
} from './context.js';
import { describeEndedJob, reasonForEndedJob, slurmJobEntry } from './job-status.js';
import { pickAdoptable } from './owned-jobs.js';
import { type JobRole, jobLogPath, jobName } from './run-identity.js';

/** What the job helpers need to know of a role (see steps/ensure-role.ts for the whole description). */
export interface JobOfRole {
  readonly role: JobRole;
  /** The condition the role's step owns; a failure of its job is written there. */
  readonly condition: string;
  /** What the job runs, in messages: "Ollama server". */
  readonly title: string;
  submitRequest(ctx: RunContext): Promise<SubmitRequest>;
}

export type EnsuredJob = { kind: 'job'; id: string } | { kind: 'halt'; outcome: StepOutcome };

/**
 * The job of `role` in this run: from status, from this process's memory, adopted by tag, or submitted.
 * The user's jobs are listed by the run's tag right before every sbatch, never earlier, so a job an
 * overlapping old leader submitted, or an sbatch of ours whose answer the connection lost, is adopted
 * instead of doubled. A job this process submitted is remembered and needs no listing.
 */
export async function ensureJob(ctx: RunContext, role: JobOfRole): Promise<EnsuredJob> {
  const { memory, ownedJobs } = ctx.services;
  const session = requireSession(ctx);
  let id =
    ctx.draft.status.slurmJobs?.find((job) => job.role === role.role)?.id ??
    memory.job(ctx.run.runId, role.role);
  if (!id) {
    const name = sanitizeJobName(jobName(role.role, ctx.namespace, ctx.name));
    // The run's directory is made while squeue lists (idempotent, and needed by the sbatch only).
    const [tagged] = await Promise.all([
      ownedJobs.withTagPrefix(session, ctx.run.tag, [name]),
      session.files.mkdirp(requirePaths(ctx).dir),
    ]);
    const adopted = pickAdoptable(tagged, ctx.run.tag, name);
    if (adopted) {
      id = adopted.id;
      ctx.log.info({ role: role.role, jobId: id }, 'adopted an existing job by its tag');
    } else {
      try {
        id = await session.slurm.submit(await role.submitRequest(ctx));
      } catch (error) {
        // Anything but sbatch's own refusal leaves the outcome unknown (the connection dropped while it
        // ran): thrown, so the next reconcile lists the tag again and adopts the job if it exists.
        if (!(error instanceof SbatchError)) throw error;
        ctx.draft.fail(
          role.condition,
          ConditionReason.SubmitFailed,
          `sbatch refused the ${role.role} job (${error.reason}): ${error.stderr.trim()}`,
        );
        return { kind: 'halt', outcome: halt() };
      }
      session.watcher.expedite();
      ctx.log.info({ role: role.role, jobId: id }, 'submitted');
    }
    memory.rememberJob(ctx.run.runId, role.role, id);
  }
  recordJob(ctx, session, role.role, id);
  return { kind: 'job', id };
}

function recordJob(ctx: RunContext, session: ClusterSession, role: JobRole, id: string): void {
  const others = (ctx.draft.status.slurmJobs ?? []).filter((job) => job.role !== role);
  const lookup = session.watcher.get(id);
  const known = ctx.draft.status.slurmJobs?.find((job) => job.role === role && job.id === id);
  // Before the first poll of a fresh process, what status already says is better than "SUBMITTED".
  const entry = !lookup && known ? known : slurmJobEntry(role, id, lookup);
  const jobs = [...others, entry];
  jobs.sort((a, b) => (a.role === b.role ? 0 : a.role === 'server' ? -1 : 1));
  ctx.draft.status.slurmJobs = jobs;
  session.watcher.watch(
    ctx.ownerKey,
    jobs.map((job) => job.id),
  );
}

/** status.slurmJobs brought to the watcher's latest view of each job. */
export function refreshJobEntries(ctx: RunContext, session: ClusterSession): void {
  const jobs = ctx.draft.status.slurmJobs;
  if (!jobs) return;
  ctx.draft.status.slurmJobs = jobs.map((job) => {
    const lookup = session.watcher.get(job.id);
    return lookup ? slurmJobEntry(job.role, job.id, lookup) : job;
  });
}

/** undefined when the job runs; otherwise the halt to return (queued, lost, or failed). */
export function checkJobRunning(ctx: RunContext, role: JobOfRole, id: string): StepOutcome {
  const { condition } = role;
  const lookup = requireSession(ctx).watcher.get(id);
  if (!lookup) {
    // A fresh process has not polled yet: keep what status says rather than flapping a True condition.
    if (findCondition(ctx.draft.status.conditions, condition)?.status === 'True')
      return halt(STARTING_POLL_MS);
    progressing(
      ctx,
      condition,
      ConditionReason.JobPending,
      `SLURM job ${id} submitted; waiting for its first state`,
    );
    if (ctx.draft.status.phase === BenchmarkPhase.Pending) ctx.draft.phase(BenchmarkPhase.Queued);
    return halt(STARTING_POLL_MS);
  }
  if (!isFound(lookup)) {
    ctx.draft.fail(
      condition,
      ConditionReason.JobLost,
      `SLURM job ${id} (${role.role}) left the queue and its end state could not be read`,
    );
    return halt();
  }
  if (isPending(lookup.state)) {
    const reason = lookup.reason ?? 'None';
    if (pendingReasonIsHopeless(lookup.reason)) {
      ctx.draft.fail(
        condition,
        ConditionReason.JobFailed,
        `SLURM job ${id} (${role.role}) can never start: pending with reason ${reason}`,
      );
      return halt();
    }
    progressing(ctx, condition, ConditionReason.JobPending, `SLURM job ${id} is pending: ${reason}`);
    ctx.draft.phase(BenchmarkPhase.Queued);
    return halt(STARTING_POLL_MS);
  }
  if (isTerminal(lookup.state)) return failForEndedJob(ctx, role, lookup);
  return undefined;
}

function failForEndedJob(ctx: RunContext, role: JobOfRole, job: JobInfo): StepOutcome {
  const message = describeEndedJob(role.title, job);
  const reason = reasonForEndedJob(job);
  ctx.draft.fail(role.condition, reason, message);
  // The tail of the job's log is what tells the user what went wrong: read before the status write.
  ctx.logTail = { role: role.role, jobId: job.id, message, condition: role.condition, reason };
  return halt();
}

const LOG_TAIL_CHARS = 1_500;

/** The last lines of the log of the job that ended under the run, added to the failure's message. */
export async function addLogTail(ctx: RunContext): Promise<void> {
  const tail = ctx.logTail;
  if (!tail || !ctx.session || !ctx.paths) return;
  ctx.logTail = undefined;
  let text = '';
  try {
    text = (
      await ctx.session.files.tail(jobLogPath(ctx.paths, tail.role, tail.jobId), LOG_TAIL_CHARS)
    ).trim();
  } catch {
    return;
  }
  if (!text) return;
  const message = `${tail.message}. Last lines of the job's log:\n${text}`;
  ctx.draft.set(tail.condition, 'False', tail.reason, message);
  ctx.draft.set(BenchmarkConditionType.BenchmarkComplete, 'False', tail.reason, message);
  ctx.draft.ready('False', tail.reason, message);
}
