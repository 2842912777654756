import { BenchmarkConditionType, ConditionReason } from '../../../../crds/index.js';
import { ollamaJobScript, type SubmitRequest } from '../../../../slurm-bridge/index.js';
import { targetsDir } from '../../../../slurm-bridge/monitoring/layout.js';
import type { ClusterSession } from '../../../cluster/types.js';
import { findCondition } from '../../../runtime/conditions.js';
import {
  halt,
  progressing,
  type RunContext,
  requirePaths,
  requireSession,
  STARTING_POLL_MS,
  type StepOutcome,
} from '../context.js';
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
};

/** The Ollama job: adopt or submit, wait while pending, read its endpoint, make sure the model is there. */
export function ensureServer(ctx: RunContext): Promise<StepOutcome> {
  return ensureRole(ctx, ollamaServer);
}

/** The model is listed by Ollama, or a background pull brings it (a reconcile never waits for a download). */
async function ensureModel(ctx: RunContext, endpoint: string, jobId: string): Promise<StepOutcome> {
  const type = BenchmarkConditionType.OllamaModelLoaded;
  if (findCondition(ctx.draft.status.conditions, type)?.status === 'True') return undefined;
  const { puller } = ctx.services;
  const session = requireSession(ctx);
  const model = normalizeModelName(ctx.spec.model.name);
  const tags = await session.fetch(`http://${endpoint}/api/tags`, { timeoutMs: 15_000 });
  if (!tags.ok) {
    progressing(
      ctx,
      type,
      ConditionReason.JobRunning,
      `Ollama at ${endpoint} answered ${tags.status}; retrying`,
    );
    return halt(STARTING_POLL_MS);
  }
  const listed = ((await tags.json()) as { models?: Array<{ name?: string; model?: string }> }).models ?? [];
  if (listed.some((entry) => entry.name === model || entry.model === model)) {
    puller.forget(ctx.run.runId);
    ctx.draft.set(
      type,
      'True',
      ConditionReason.ModelLoaded,
      `${model} is available on Ollama ${endpoint} (job ${jobId})`,
    );
    return undefined;
  }
  const pull = puller.ensure(ctx.run.runId, session, `http://${endpoint}`, model);
  if (pull.state === 'failed') {
    ctx.draft.fail(type, ConditionReason.ModelPullFailed, pull.message);
    return halt();
  }
  progressing(
    ctx,
    type,
    ConditionReason.ModelPulling,
    pull.state === 'pulling' ? pull.message : `${model} pulled; checking`,
  );
  return halt(STARTING_POLL_MS);
}

async function ollamaSubmitRequest(ctx: RunContext): Promise<SubmitRequest> {
  const session = requireSession(ctx);
  const paths = requirePaths(ctx);
  const cluster = session.spec;
  const { slurm, server, workload } = ctx.spec;
  const gpus = slurm.gpus ?? 0;
  const script = ollamaJobScript({
    endpointFile: paths.serverEndpoint,
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
