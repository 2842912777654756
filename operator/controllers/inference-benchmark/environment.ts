import { createHash } from 'node:crypto';
import { z } from 'zod';
import type { RunEnvironment } from '../../../client-service/api-schema.js';
import {
  type BenchmarkEnvironment,
  HostEnvironment,
  type InferenceBenchmarkSpec,
} from '../../../crds/index.js';
import {
  ENVIRONMENT_FILE_MAX_BYTES,
  type ServerEngine,
  serverEnvironmentPath,
} from '../../../slurm-bridge/index.js';
import type { ClusterSession } from '../../cluster/types.js';
import { toKubeTime } from '../../runtime/conditions.js';
import { type RunContext, requirePaths, requireSession } from './context.js';
import { normalizeModelName } from './run-identity.js';

/**
 * status.environment (README "The run's environment"): what ran where, so that two results compare knowing
 * it. Read where it is cheap and once per run:
 * - when the server's endpoint appears: the job's server.environment.json (node, CPU, memory, GPUs, Slurm;
 *   slurm-bridge/scripts/environment.ts), the engine's version and the model's digest and quantization
 *   (Ollama /api/version and /api/tags; OpenAI-compatible servers /version), plus what the operator knows:
 *   its version, the spec's hash, the seed, the dataset's hash;
 * - before the run starts: the client's node and the bundle's hash; the client service adds its version and
 *   writes the whole into the run's summary.json.
 * Every source is best effort: what cannot be read stays out, and never holds the run up.
 */

/** The operator's version (package.json; a unit test holds the two together). */
export const OPERATOR_VERSION = '0.1.0';

const ENGINE_QUERY_TIMEOUT_MS = 10_000;

/** The job's file, as HostEnvironment plus the Slurm version; anything else in it is ignored. */
const NodeEnvironmentFile = z.object({
  ...HostEnvironment.shape,
  slurmVersion: z.string().max(64).optional(),
});
export type NodeEnvironmentFile = z.infer<typeof NodeEnvironmentFile>;

/**
 * server.environment.json as the job wrote it: bounded (ENVIRONMENT_FILE_MAX_BYTES), every field checked
 * on its own so one odd value loses only itself; zeros (a tool that was missing) and empty texts are dropped.
 */
export function parseNodeEnvironment(text: string): NodeEnvironmentFile | undefined {
  if (Buffer.byteLength(text) > ENVIRONMENT_FILE_MAX_BYTES) return undefined;
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return undefined;
  const kept: Record<string, unknown> = {};
  for (const [field, schema] of Object.entries(NodeEnvironmentFile.shape)) {
    const value = (raw as Record<string, unknown>)[field];
    if (value === undefined || value === '' || value === 0) continue;
    if (schema.safeParse(value).success) kept[field] = value;
  }
  return NodeEnvironmentFile.parse(kept);
}

/** What the engine told about itself and its model. */
export interface EngineFacts {
  version?: string;
  modelDigest?: string;
  quantization?: string;
  modelFormat?: string;
  parameterSize?: string;
}

/** Ollama's /api/tags entry of `model` (the tag, `:latest` spelled out): digest and details. */
export function ollamaModelFacts(tags: unknown, model: string): EngineFacts {
  const wanted = normalizeModelName(model);
  const models = (tags as { models?: unknown })?.models;
  if (!Array.isArray(models)) return {};
  const entry = models.find(
    (m) => typeof m === 'object' && m !== null && (m as { name?: unknown }).name === wanted,
  ) as { digest?: unknown; details?: Record<string, unknown> } | undefined;
  if (!entry) return {};
  const text = (value: unknown, max: number) =>
    typeof value === 'string' && value !== '' ? value.slice(0, max) : undefined;
  return compact({
    modelDigest: text(entry.digest, 128),
    quantization: text(entry.details?.quantization_level, 64),
    modelFormat: text(entry.details?.format, 64),
    parameterSize: text(entry.details?.parameter_size, 64),
  });
}

/** The environment of a run from what was read; pure. */
export function buildEnvironment(input: {
  spec: InferenceBenchmarkSpec;
  node: NodeEnvironmentFile | undefined;
  engine: EngineFacts;
  clusterSlurmVersion: string | undefined;
  datasetSha256: string | undefined;
  now: number;
}): BenchmarkEnvironment {
  const { spec, node, engine } = input;
  const { slurmVersion, ...serverNode } = node ?? {};
  const huggingFace = spec.server.engine === 'vllm' || spec.server.engine === 'sglang';
  return compact({
    engine: spec.server.engine,
    engineVersion: engine.version,
    model: spec.model.name,
    // Hugging Face engines load a revision: that is what a digest would pin.
    modelDigest:
      engine.modelDigest ?? (huggingFace && !spec.model.path ? (spec.model.revision ?? 'main') : undefined),
    quantization: engine.quantization ?? spec.model.precision,
    modelFormat: engine.modelFormat,
    parameterSize: engine.parameterSize,
    serverNode: Object.keys(serverNode).length > 0 ? serverNode : undefined,
    slurmVersion: slurmVersion ?? input.clusterSlurmVersion,
    operatorVersion: OPERATOR_VERSION,
    specHash: specHash(spec),
    seed: spec.workload.seed,
    datasetHash: input.datasetSha256?.slice(0, 16),
    collectedAt: toKubeTime(input.now),
  });
}

/** sha256 (first 16 hex) of the validated spec, as the results ConfigMap's environment spells it. */
export function specHash(spec: InferenceBenchmarkSpec): string {
  return createHash('sha256').update(JSON.stringify(spec)).digest('hex').slice(0, 16);
}

/** Once per run, when the server's endpoint is known: the server side of status.environment. */
export async function recordServerEnvironment(ctx: RunContext, engine: ServerEngine): Promise<void> {
  if (ctx.draft.status.environment?.collectedAt) return;
  const session = requireSession(ctx);
  const endpoint = ctx.endpoints.server;
  const [node, facts] = await Promise.all([
    readNodeEnvironment(ctx, session),
    endpoint ? engineFacts(ctx, session, engine, endpoint) : Promise.resolve({}),
  ]);
  const cluster = ctx.services.clusters.get(ctx.namespace, ctx.spec.clusterRef.name);
  ctx.draft.status.environment = buildEnvironment({
    spec: ctx.spec,
    node,
    engine: facts,
    clusterSlurmVersion: cluster?.status?.slurmVersion,
    datasetSha256: ctx.draft.status.dataset?.sha256,
    now: ctx.services.clock.now(),
  });
}

/**
 * Before the run starts: the client's node and the bundle's hash. Returns the environment for the client
 * service's POST /runs (which echoes it, with its version, into the run's status and summary.json).
 */
export async function recordClientEnvironment(ctx: RunContext): Promise<RunEnvironment | undefined> {
  const environment = ctx.draft.status.environment;
  if (!environment) return undefined;
  if (!environment.bundleHash) {
    const bundle = await ctx.services.clientBundle();
    environment.bundleHash = createHash('sha256').update(bundle).digest('hex').slice(0, 16);
  }
  const clientNode = ctx.draft.status.slurmJobs?.find((job) => job.role === 'client')?.node;
  if (clientNode && !environment.clientNode) environment.clientNode = clientNode.slice(0, 253);
  const { collectedAt: _collectedAt, clientServiceVersion: _version, ...sent } = environment;
  return sent as RunEnvironment;
}

/** The client service's version, as its run answer echoes the environment back. */
export function recordClientServiceVersion(ctx: RunContext, echoed: RunEnvironment | null | undefined): void {
  const version = echoed?.clientServiceVersion;
  const environment = ctx.draft.status.environment;
  if (environment && typeof version === 'string' && !environment.clientServiceVersion)
    environment.clientServiceVersion = version.slice(0, 64);
}

async function readNodeEnvironment(
  ctx: RunContext,
  session: ClusterSession,
): Promise<NodeEnvironmentFile | undefined> {
  const path = serverEnvironmentPath(requirePaths(ctx).serverEndpoint);
  try {
    const text = await session.files.readFileIfExists(path, ENVIRONMENT_FILE_MAX_BYTES * 2);
    return text === null ? undefined : parseNodeEnvironment(text.trim());
  } catch (error) {
    ctx.log.warn({ err: errorText(error), path }, 'could not read the server environment');
    return undefined;
  }
}

/** Ollama: /api/version and /api/tags. OpenAI-compatible servers: /version (vLLM, SGLang), when it answers. */
async function engineFacts(
  ctx: RunContext,
  session: ClusterSession,
  engine: ServerEngine,
  endpoint: string,
): Promise<EngineFacts> {
  const get = async (path: string): Promise<unknown> => {
    const response = await session.fetch(`http://${endpoint}${path}`, { timeoutMs: ENGINE_QUERY_TIMEOUT_MS });
    if (!response.ok) {
      await response.body?.cancel();
      return undefined;
    }
    return (await response.json()) as unknown;
  };
  const versionOf = (body: unknown): string | undefined => {
    const version = (body as { version?: unknown } | undefined)?.version;
    return typeof version === 'string' && version !== '' ? version.slice(0, 128) : undefined;
  };
  try {
    if (engine.name === 'ollama') {
      const [version, tags] = await Promise.all([get('/api/version'), get('/api/tags')]);
      return compact({ version: versionOf(version), ...ollamaModelFacts(tags, ctx.spec.model.name) });
    }
    return compact({ version: versionOf(await get('/version').catch(() => undefined)) });
  } catch (error) {
    ctx.log.warn({ err: errorText(error) }, 'could not ask the server for its version');
    return {};
  }
}

/** The object without its undefined fields (status is written as JSON; zod's strict objects stay tidy). */
function compact<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
