import { z } from 'zod';
import { BenchmarkConditionType, ConditionReason } from '../../../../crds/index.js';
import { ollamaJobScript, type SubmitRequest } from '../../../../slurm-bridge/index.js';
import { targetsDir } from '../../../../slurm-bridge/monitoring/layout.js';
import type { ClusterSession } from '../../../cluster/types.js';
import { findCondition } from '../../../runtime/conditions.js';
import { type RunContext, requirePaths, requireSession, type StepOutcome } from '../context.js';
import { normalizeModelName } from '../run-identity.js';
import { ensureRole, type RoleDescription } from './ensure-role.js';
import { placement, runJobFields } from './placement.js';

/** The Ollama server job, as ensureRole needs it (docs/architecture.md#reconcile-pipeline, step 7). */
export const ollamaServer: RoleDescription = {
  role: 'server',
  condition: BenchmarkConditionType.OllamaModelLoaded,
  title: 'Ollama server',
  endpointField: 'ollama',
  endpointFile: (paths) => paths.serverEndpoint,
  starting: { reason: ConditionReason.JobRunning, service: 'Ollama' },
  submitRequest: ollamaSubmitRequest,
  probe: ensureModel,
  preparing: modelPreparation,
  explainEnd,
};

/** The Ollama job: adopt or submit, wait while pending, read its endpoint, make sure the model is there. */
export function ensureServer(ctx: RunContext): Promise<StepOutcome> {
  return ensureRole(ctx, ollamaServer);
}

/**
 * The job pulls and loads its model itself and says how far it got in a small state file beside its
 * endpoint (slurm-bridge/scripts/ollama.ts, modelPreparation): an SSH reconnect or an operator restart
 * costs the pull nothing. The endpoint is written only once the model is loaded.
 */
async function ensureModel(ctx: RunContext, endpoint: string, jobId: string): Promise<StepOutcome> {
  const type = BenchmarkConditionType.OllamaModelLoaded;
  if (findCondition(ctx.draft.status.conditions, type)?.status === 'True') return undefined;
  const model = normalizeModelName(ctx.spec.model.name);
  ctx.draft.set(
    type,
    'True',
    ConditionReason.ModelLoaded,
    `${model} is loaded on Ollama ${endpoint} (job ${jobId})`,
  );
  return undefined;
}

/** The model state the job wrote, as a condition reason and message (undefined before the first write). */
async function modelPreparation(ctx: RunContext): Promise<{ reason: string; message: string } | undefined> {
  const text = await requireSession(ctx).files.readFileIfExists(requirePaths(ctx).serverModelState);
  if (!text?.trim()) return undefined;
  return describeModelState(normalizeModelName(ctx.spec.model.name), text);
}

/** A failed pull leaves Ollama's error in the state file: it names the model, not just "exit code 3". */
async function explainEnd(ctx: RunContext): Promise<{ reason: string; message: string } | undefined> {
  const state = await modelPreparation(ctx);
  return state?.reason === ConditionReason.ModelPullFailed ? state : undefined;
}

const PullLine = z.object({
  status: z.string().optional(),
  error: z.string().optional(),
  digest: z.string().optional(),
  total: z.number().optional(),
  completed: z.number().optional(),
});

/** Ollama's pull progress line (or the job's own states) as a sentence a person reads. */
export function describeModelState(model: string, text: string): { reason: string; message: string } {
  let line: z.infer<typeof PullLine>;
  try {
    line = PullLine.parse(JSON.parse(text));
  } catch {
    return { reason: ConditionReason.ModelPulling, message: `preparing ${model}` };
  }
  if (line.error)
    return {
      reason: ConditionReason.ModelPullFailed,
      message: `pulling ${model} failed: ${line.error.slice(0, 1000)}`,
    };
  if (line.status === 'checking')
    return { reason: ConditionReason.ModelPulling, message: `looking for ${model}` };
  if (line.status === 'ready' || line.status === 'success')
    return { reason: ConditionReason.ModelPulling, message: `${model} is there; loading it` };
  const mb = (bytes: number) => (bytes / 1_000_000).toFixed(0);
  const progress =
    line.total && line.completed !== undefined
      ? `: ${Math.floor((100 * line.completed) / line.total)}% (${mb(line.completed)} of ${mb(line.total)} MB)`
      : '';
  return {
    reason: ConditionReason.ModelPulling,
    message: `pulling ${model}: ${line.status ?? 'in progress'}${progress}`,
  };
}

async function ollamaSubmitRequest(ctx: RunContext): Promise<SubmitRequest> {
  const session = requireSession(ctx);
  const paths = requirePaths(ctx);
  const cluster = session.spec;
  const { slurm, server, workload } = ctx.spec;
  const gpus = slurm.gpus ?? 0;
  const script = ollamaJobScript({
    endpointFile: paths.serverEndpoint,
    modelStateFile: paths.serverModelState,
    targetsDir: targetsDir(session.workDir),
    modelsDir: await modelsDir(ctx, session),
    numParallel: server.numParallel ?? Math.min(workload.clients, 1024),
    maxLoadedModels: server.maxLoadedModels,
    env: Object.fromEntries((server.env ?? []).map((entry) => [entry.name, entry.value])),
    runtime: {
      runtime: cluster.containerRuntime,
      ...(server.image ? { image: server.image } : {}),
      binds: [session.workDir],
      gpu: gpus > 0,
    },
    modules: cluster.modules ?? [],
    benchmark: ctx.name,
    model: ctx.spec.model.name,
    insecureRegistry: ctx.spec.model.insecureRegistry,
  });
  return {
    script,
    ...placement(
      slurm.partition ?? cluster.defaults?.serverPartition,
      slurm.account ?? cluster.defaults?.account,
      slurm.qos ?? cluster.defaults?.qos,
    ),
    time: slurm.time,
    memGB: slurm.memGB,
    nodes: slurm.nodes,
    ...(slurm.cpusPerTask ? { cpus: slurm.cpusPerTask } : {}),
    ...(gpus > 0 ? { gres: `gpu:${gpus}` } : {}),
    ...runJobFields(ctx, 'server'),
  };
}

/** Ollama's own default (~/.ollama/models): models the site already pulled are found, none pulled twice. */
async function modelsDir(ctx: RunContext, session: ClusterSession): Promise<string> {
  const { memory } = ctx.services;
  const known = memory.home(session);
  if (known) return `${known}/.ollama/models`;
  const result = await session.connection.exec('printf %s "$HOME"', { timeoutSeconds: 15 });
  const home = result.stdout.trim();
  if (result.code !== 0 || !home.startsWith('/')) throw new Error(`could not read $HOME on ${session.key}`);
  memory.rememberHome(session, home);
  return `${home}/.ollama/models`;
}
