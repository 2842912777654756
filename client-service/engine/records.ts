import type { RequestRecord } from '../api-schema.js';
import { type MeasuredRequest, requestMetrics } from '../metrics.js';
import type { StreamOutcome } from '../ollama/stream-client.js';

export interface RequestPlacement {
  runId: string;
  index: number;
  clientId: number;
  stage: number;
  repeat: number;
  warmup: boolean;
  /** Monotonic ms of the run's origin; every ms field of the record is relative to it. */
  originMs: number;
  scheduledStartMs: number;
  startedAtWallMs: number;
}

/** Turns what the stream client saw into a record (and keeps the raw gaps for the summary). */
export function measuredRequest(place: RequestPlacement, outcome: StreamOutcome): MeasuredRequest {
  const m = requestMetrics(outcome.timings, outcome.counts);
  // A failed request keeps its TTFT if a token came, but it has no e2e/TPOT/TPS: it never finished.
  const ok = outcome.ok;
  const record: RequestRecord = {
    runId: place.runId,
    index: place.index,
    clientId: place.clientId,
    stage: place.stage,
    repeat: place.repeat,
    warmup: place.warmup,
    startedAt: new Date(place.startedAtWallMs).toISOString(),
    scheduledStartMs: place.scheduledStartMs - place.originMs,
    actualStartMs: outcome.timings.sentMs - place.originMs,
    startLagMs: outcome.timings.sentMs - place.scheduledStartMs,
    ok,
    errorKind: outcome.errorKind,
    errorMessage: outcome.errorMessage,
    httpStatus: outcome.httpStatus,
    ttftMs: m.ttftMs,
    e2eMs: ok ? m.e2eMs : null,
    tpotMs: ok ? m.tpotMs : null,
    itlMeanMs: m.itlMeanMs,
    itlMaxMs: m.itlMaxMs,
    contentChunks: outcome.timings.contentChunkMs.length,
    outputTokens: ok ? m.outputTokens : null,
    outputTokensSource: ok ? m.outputTokensSource : null,
    evalCount: outcome.counts.evalCount,
    evalDurationNs: outcome.counts.evalDurationNs,
    promptEvalCount: outcome.counts.promptEvalCount,
    promptEvalDurationNs: outcome.counts.promptEvalDurationNs,
    loadDurationNs: outcome.counts.loadDurationNs,
    totalDurationNs: outcome.counts.totalDurationNs,
    doneReason: outcome.counts.doneReason,
    decodeTps: ok ? m.decodeTps : null,
    clientTps: ok ? m.clientTps : null,
  };
  return { record, itlsMs: ok ? m.itlsMs : [] };
}

export const RECORD_COLUMNS = [
  'runId',
  'index',
  'clientId',
  'warmup',
  'startedAt',
  'scheduledStartMs',
  'actualStartMs',
  'startLagMs',
  'ok',
  'errorKind',
  'errorMessage',
  'httpStatus',
  'ttftMs',
  'e2eMs',
  'tpotMs',
  'itlMeanMs',
  'itlMaxMs',
  'contentChunks',
  'outputTokens',
  'outputTokensSource',
  'evalCount',
  'evalDurationNs',
  'promptEvalCount',
  'promptEvalDurationNs',
  'loadDurationNs',
  'totalDurationNs',
  'doneReason',
  'decodeTps',
  'clientTps',
  // Last, so that readers of the columns before sweeps existed keep their positions.
  'stage',
  'repeat',
] as const satisfies ReadonlyArray<keyof RequestRecord>;

function csvCell(value: unknown): string {
  if (value === null || value === undefined) return '';
  const text = String(value);
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

export function csvHeader(): string {
  return `${RECORD_COLUMNS.join(',')}\n`;
}

export function csvRow(record: RequestRecord): string {
  return `${RECORD_COLUMNS.map((c) => csvCell(record[c])).join(',')}\n`;
}

export function jsonlRow(record: RequestRecord): string {
  return `${JSON.stringify(record)}\n`;
}
