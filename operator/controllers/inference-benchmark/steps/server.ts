import { BenchmarkConditionType, ConditionReason, peakClients } from '../../../../crds/index.js';
import { engineFor, type ServerEngine, type SubmitRequest } from '../../../../slurm-bridge/index.js';
import { targetsDir } from '../../../../slurm-bridge/monitoring/layout.js';
import type { ClusterSession } from '../../../cluster/types.js';
import { findCondition } from '../../../runtime/conditions.js';
import { SecretNotFoundError } from '../../../runtime/secrets.js';
import {
  halt,
  progressing,
  type RunContext,
  requirePaths,
  requireSession,
  type StepOutcome,
  WAITING_FOR_CLUSTER_MS,
} from '../context.js';
import { recordServerEnvironment } from '../environment.js';
import { normalizeModelName } from '../run-identity.js';
import { ensureDataset } from './dataset.js';
import { ensureRole, type RoleDescription } from './ensure-role.js';
import { placement, runJobFields } from './placement.js';

/**
 * The server job of the spec's engine (docs/architecture.md#engines), as ensureRole needs it. What is
 * particular to an engine (its script, how its job reports the model, its protocols) comes from its
 * ServerEngine in slurm-bridge/engines; this file only maps the spec onto it.
 */
export function serverRole(engine: ServerEngine): RoleDescription {
  return {
    role: 'server',
    condition: BenchmarkConditionType.OllamaModelLoaded,
    title: `${engine.title} server`,
    endpointFields: engine.name === 'ollama' ? ['server', 'ollama'] : ['server'],
    endpointFile: (paths) => paths.serverEndpoint,
    starting: { reason: ConditionReason.JobRunning, service: engine.title },
    submitRequest: (ctx) => serverSubmitRequest(ctx, engine),
    probe: (ctx, endpoint, jobId) => modelLoaded(ctx, engine, endpoint, jobId),
    preparing: (ctx) => modelPreparation(ctx, engine),
    explainEnd: async (ctx) => {
      const state = await modelPreparation(ctx, engine);
      return state?.failed ? state : undefined;
    },
  };
}

/** The server job: adopt or submit, wait while pending, read its endpoint (written once the model is loaded). */
export async function ensureServer(ctx: RunContext): Promise<StepOutcome> {
  // The dataset is read, checked and uploaded before anything is submitted for it.
  const dataset = await ensureDataset(ctx);
  if (dataset) return dataset;
  try {
    const engine = engineFor(ctx.spec.server.engine);
    const outcome = await ensureRole(ctx, serverRole(engine));
    if (outcome === undefined) await recordServerEnvironment(ctx, engine);
    return outcome;
  } catch (error) {
    return waitForTokenSecret(ctx, error);
  }
}

/** The model name as status and messages show it (Ollama's implicit `:latest` spelled out). */
export function displayModel(ctx: RunContext): string {
  return ctx.spec.server.engine === 'ollama' ? normalizeModelName(ctx.spec.model.name) : ctx.spec.model.name;
}

/**
 * The job pulls or loads its model itself and writes its endpoint only once the server answers with the
 * model loaded, so a written endpoint is the proof.
 */
async function modelLoaded(
  ctx: RunContext,
  engine: ServerEngine,
  endpoint: string,
  jobId: string,
): Promise<StepOutcome> {
  const type = BenchmarkConditionType.OllamaModelLoaded;
  if (findCondition(ctx.draft.status.conditions, type)?.status === 'True') return undefined;
  ctx.draft.set(
    type,
    'True',
    ConditionReason.ModelLoaded,
    `${displayModel(ctx)} is loaded on ${engine.title} ${endpoint} (job ${jobId})`,
  );
  return undefined;
}

/** The model state the job wrote, as a condition reason and message (undefined before the first write). */
async function modelPreparation(
  ctx: RunContext,
  engine: ServerEngine,
): Promise<{ reason: string; message: string; failed: boolean } | undefined> {
  const text = await requireSession(ctx).files.readFileIfExists(requirePaths(ctx).serverModelState);
  if (!text?.trim()) return undefined;
  const state = engine.describeModelState(displayModel(ctx), text.trim());
  if (!state) return undefined;
  const pulls = engine.name === 'ollama';
  const reason = state.failed
    ? pulls
      ? ConditionReason.ModelPullFailed
      : ConditionReason.ModelLoadFailed
    : pulls
      ? ConditionReason.ModelPulling
      : ConditionReason.ModelLoading;
  return { reason, message: state.message, failed: state.failed };
}

async function serverSubmitRequest(ctx: RunContext, engine: ServerEngine): Promise<SubmitRequest> {
  const session = requireSession(ctx);
  const paths = requirePaths(ctx);
  const cluster = session.spec;
  const { slurm, server, workload, model } = ctx.spec;
  const gpus = slurm.gpus ?? 0;
  const script = engine.jobScript({
    endpointFile: paths.serverEndpoint,
    modelStateFile: paths.serverModelState,
    targetsDir: targetsDir(session.workDir),
    cacheDir: server.cacheDir ?? engine.defaultCacheDir(await clusterHome(ctx, session)),
    runtime: {
      runtime: cluster.containerRuntime,
      ...(server.image ? { image: server.image } : {}),
      binds: [session.workDir],
      gpu: gpus > 0,
    },
    modules: cluster.modules ?? [],
    benchmark: ctx.name,
    model: {
      name: model.name,
      ...(model.revision ? { revision: model.revision } : {}),
      ...(model.path ? { path: model.path } : {}),
      ...(model.file ? { file: model.file } : {}),
    },
    args: server.args ?? [],
    env: Object.fromEntries((server.env ?? []).map((entry) => [entry.name, entry.value])),
    gpus,
    ...(server.tensorParallelSize ? { tensorParallelSize: server.tensorParallelSize } : {}),
    ...((await uploadHfToken(ctx, session)) ? { hfTokenFile: paths.serverHfToken } : {}),
    numParallel: server.numParallel ?? peakClients(workload),
    maxLoadedModels: server.maxLoadedModels,
    insecureRegistry: model.insecureRegistry,
    ...(server.readyTimeoutSeconds ? { readyTimeoutSeconds: server.readyTimeoutSeconds } : {}),
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

/**
 * The Hugging Face token of the spec's Secret, copied to the run's folder as a 0600 file right before the
 * sbatch (a rotated token is picked up by the next run). The bytes go from the apiserver to SFTP only.
 * A missing Secret or key is the user's to fix: thrown as such, and shown on the server condition.
 */
async function uploadHfToken(ctx: RunContext, session: ClusterSession): Promise<boolean> {
  const ref = ctx.spec.model.huggingFaceTokenSecretRef;
  if (!ref) return false;
  const secrets = ctx.services.secrets;
  if (!secrets) throw new Error('internal: no Secret reader for huggingFaceTokenSecretRef');
  const values = await secrets.read(ctx.namespace, ref.name, [ref.key]);
  const token = values.get(ref.key)?.toString('utf8').trim() ?? '';
  if (!token) throw new SecretNotFoundError(`Secret ${ctx.namespace}/${ref.name} key ${ref.key} is empty`);
  await session.files.uploadAtomic(requirePaths(ctx).serverHfToken, token, 0o600);
  return true;
}

/**
 * A missing token Secret holds the run before its sbatch, on the server condition, and is looked for again:
 * with GitOps the Secret may well be applied after the benchmark. Anything else is rethrown.
 */
function waitForTokenSecret(ctx: RunContext, error: unknown): StepOutcome {
  if (!(error instanceof SecretNotFoundError)) throw error;
  progressing(
    ctx,
    BenchmarkConditionType.OllamaModelLoaded,
    ConditionReason.TokenSecretNotFound,
    `model.huggingFaceTokenSecretRef: ${error.message}; the server job is submitted once it exists`,
  );
  return halt(WAITING_FOR_CLUSTER_MS);
}

/** The cluster user's $HOME: engines keep their weights below it unless the spec says where. */
async function clusterHome(ctx: RunContext, session: ClusterSession): Promise<string> {
  const { memory } = ctx.services;
  const known = memory.home(session);
  if (known) return known;
  const result = await session.connection.exec('printf %s "$HOME"', { timeoutSeconds: 15 });
  const home = result.stdout.trim();
  if (result.code !== 0 || !home.startsWith('/')) throw new Error(`could not read $HOME on ${session.key}`);
  memory.rememberHome(session, home);
  return home;
}
