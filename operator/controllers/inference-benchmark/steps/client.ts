import { BenchmarkConditionType, ConditionReason } from '../../../../crds/index.js';
import { clientServiceJobScript, type SubmitRequest } from '../../../../slurm-bridge/index.js';
import { scrapeTokenFile, targetsDir } from '../../../../slurm-bridge/monitoring/layout.js';
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
import { ensureRole, type RoleDescription } from './ensure-role.js';
import { placement, runJobFields } from './placement.js';

/** The client-service job, as ensureRole needs it (docs/architecture.md#reconcile-pipeline, step 8). */
export const clientService: RoleDescription = {
  role: 'client',
  condition: BenchmarkConditionType.ClientHealthy,
  title: 'client-service',
  endpointFields: ['clientService'],
  endpointFile: (paths) => paths.clientEndpoint,
  starting: { reason: ConditionReason.ClientStarting, service: 'the client-service' },
  submitRequest: clientSubmitRequest,
  probe: checkHealth,
};

/** The client-service job: bundle uploaded once per content, a per-run token (0600), /health answering. */
export function ensureClient(ctx: RunContext): Promise<StepOutcome> {
  return ensureRole(ctx, clientService);
}

async function checkHealth(ctx: RunContext, endpoint: string, jobId: string): Promise<StepOutcome> {
  const type = BenchmarkConditionType.ClientHealthy;
  const health = await requireSession(ctx)
    .fetch(`http://${endpoint}/health`, { timeoutMs: 10_000 })
    .catch(() => undefined);
  if (!health?.ok) {
    const wasHealthy = findCondition(ctx.draft.status.conditions, type)?.status === 'True';
    const reason = wasHealthy ? ConditionReason.ClientUnhealthy : ConditionReason.ClientStarting;
    progressing(ctx, type, reason, `client-service ${endpoint} (job ${jobId}) does not answer /health yet`);
    return halt(STARTING_POLL_MS);
  }
  ctx.draft.set(
    type,
    'True',
    ConditionReason.ClientHealthy,
    `client-service ${endpoint} (job ${jobId}) answers /health`,
  );
  return undefined;
}

async function clientSubmitRequest(ctx: RunContext): Promise<SubmitRequest> {
  const session = requireSession(ctx);
  const paths = requirePaths(ctx);
  const cluster = session.spec;
  const { slurm, clientService } = ctx.spec;
  const bundlePath = await session.ensureUploaded(
    'client-service.mjs',
    await ctx.services.clientBundle(),
    0o644,
  );
  await clientToken(ctx);
  const pushgateway = ctx.draft.status.endpoints?.pushgateway;
  const monitoringOn =
    findCondition(ctx.draft.status.conditions, BenchmarkConditionType.MonitoringReady)?.reason !==
    ConditionReason.Disabled;
  const script = clientServiceJobScript({
    bundlePath,
    endpointFile: paths.clientEndpoint,
    targetsDir: targetsDir(session.workDir),
    tokenFile: paths.clientToken,
    ...(monitoringOn ? { metricsTokenFile: scrapeTokenFile(session.workDir) } : {}),
    ollamaUrl: `http://${ctx.endpoints.server}`,
    ...(monitoringOn && pushgateway ? { pushgatewayUrl: `http://${pushgateway}` } : {}),
    outputDir: paths.results,
    benchmark: ctx.name,
    model: ctx.spec.model.name,
    // The bundle needs only node; container images for it are not part of the API yet.
    runtime: { runtime: 'native' },
    modules: cluster.modules ?? [],
  });
  return {
    script,
    ...placement(
      clientService.partition ?? cluster.defaults?.clientPartition,
      slurm.account ?? cluster.defaults?.account,
      slurm.qos ?? cluster.defaults?.qos,
    ),
    time: clientService.time,
    memGB: clientService.memGB,
    cpus: clientService.cpus,
    ...runJobFields(ctx, 'client'),
  };
}

/** The per-run bearer token: generated once, kept only on the cluster (mode 0600) and in memory. */
export async function clientToken(ctx: RunContext): Promise<string> {
  const { memory, newToken } = ctx.services;
  const session = requireSession(ctx);
  const known = memory.token(ctx.run.runId, session);
  if (known) return known;
  const path = requirePaths(ctx).clientToken;
  const existing = (await session.files.readFileIfExists(path))?.trim();
  const token = existing || newToken();
  if (!existing) await session.files.uploadAtomic(path, token, 0o600);
  memory.rememberToken(ctx.run.runId, session, token);
  return token;
}
