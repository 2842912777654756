import { BenchmarkConditionType, ConditionReason, type DatasetStatus } from '../../../../crds/index.js';
import { findCondition } from '../../../runtime/conditions.js';
import {
  halt,
  isPersistedSettled,
  progressing,
  type RunContext,
  requireSession,
  SETTLE_AFTER_WRITE_MS,
  type StepOutcome,
  WAITING_FOR_CLUSTER_MS,
} from '../context.js';
import { normalizedPrompts, parseDataset, sha256Hex } from '../dataset.js';
import type { ConfigMapKeyRead } from '../dataset-source.js';
import { settleRun } from './settle-run.js';

/** How often a benchmark whose dataset was refused looks at its ConfigMap again. */
export const DATASET_RECHECK_MS = 30_000;

/**
 * workload.dataset (README "Datasets"), before the server job is submitted: read the ConfigMap key, parse and
 * normalize it (dataset.ts), upload the prompts content-addressed (once per content, like the client
 * bundle), and record what was read in status.dataset, which the run step hands to the client service as
 * workload.promptsFile. Read once per run: status.dataset says it was, across restarts.
 *
 * A missing ConfigMap or key waits (GitOps may apply it later). A malformed dataset fails the benchmark with
 * InvalidDataset and the row; `recheckRefusedDataset` starts it again when the ConfigMap's content changes.
 */
export async function ensureDataset(ctx: RunContext): Promise<StepOutcome> {
  const dataset = ctx.spec.workload.dataset;
  if (!dataset) return undefined;
  const { name, key } = dataset.configMapRef;
  const known = ctx.draft.status.dataset;
  if (known?.path && known.configMap === name && known.key === key && known.format === dataset.format)
    return undefined;
  const read = await readDataset(ctx);
  const where = `workload.dataset (ConfigMap ${ctx.namespace}/${name}, key ${key})`;
  if (!read.found) {
    progressing(
      ctx,
      BenchmarkConditionType.BenchmarkComplete,
      ConditionReason.DatasetNotFound,
      `${where}: ${read.why}; the jobs are submitted once it exists`,
    );
    return halt(WAITING_FOR_CLUSTER_MS);
  }
  const status: DatasetStatus = {
    configMap: name,
    key,
    format: dataset.format,
    sha256: sha256Hex(read.text),
  };
  ctx.draft.status.dataset = status;
  const parsed = parseDataset(read.text, dataset.format, ctx.spec.workload.maxTokens);
  if (!parsed.ok) {
    ctx.draft.fail(
      BenchmarkConditionType.BenchmarkComplete,
      ConditionReason.InvalidDataset,
      `${where}, format ${dataset.format}: ${parsed.message}`,
    );
    return halt();
  }
  const prompts = normalizedPrompts(parsed.rows);
  const path = await requireSession(ctx).ensureUploaded('prompts.jsonl', prompts.bytes, 0o644);
  ctx.draft.status.dataset = { ...status, rows: parsed.rows.length, path };
  ctx.log.info({ configMap: name, key, rows: parsed.rows.length, path }, 'dataset uploaded');
  return undefined;
}

/**
 * Before settleRun: a benchmark that ended with InvalidDataset is terminal until its spec (a new generation)
 * or its ConfigMap changes. Without a watch on ConfigMaps (the operator may only `get` them) it looks again
 * every DATASET_RECHECK_MS; a changed content (or a ConfigMap gone, which is then waited for) starts the
 * same run again from Pending.
 */
export async function recheckRefusedDataset(ctx: RunContext): Promise<StepOutcome> {
  if (!ctx.spec.workload.dataset || !isPersistedSettled(ctx)) return undefined;
  const complete = findCondition(ctx.object.status?.conditions, BenchmarkConditionType.BenchmarkComplete);
  if (complete?.reason !== ConditionReason.InvalidDataset) return undefined;
  const read = await readDataset(ctx);
  const sha256 = read.found ? sha256Hex(read.text) : undefined;
  if (sha256 !== undefined && sha256 === ctx.draft.status.dataset?.sha256) {
    const settled = await settleRun(ctx);
    return settled?.requeueAfterMs !== undefined ? settled : halt(DATASET_RECHECK_MS);
  }
  ctx.log.info({ runId: ctx.run.runId }, 'the refused dataset changed: starting the run again');
  ctx.draft.resetForRun(ctx.run.runId);
  delete ctx.draft.status.dataset;
  delete ctx.draft.status.resultsStore;
  return halt(SETTLE_AFTER_WRITE_MS);
}

function readDataset(ctx: RunContext): Promise<ConfigMapKeyRead> {
  const dataset = ctx.spec.workload.dataset;
  const reader = ctx.services.configMaps;
  if (!dataset || !reader) throw new Error('internal: workload.dataset without a ConfigMap reader');
  return reader.readKey(ctx.namespace, dataset.configMapRef.name, dataset.configMapRef.key);
}
