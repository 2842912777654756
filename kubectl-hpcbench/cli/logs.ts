import { setTimeout as sleep } from 'node:timers/promises';
import {
  BenchmarkConditionType,
  ConditionReason,
  RESULTS_LOG_ROLES,
  type ResultsLogRole,
} from '../../crds/index.js';
import { benchmarkName, CliError, connect, type Kube, type KubeOptions } from './kube.js';
import { loadResults, type RunResults } from './results-data.js';

/** How often -f reads the ConfigMap again; the operator refreshes its tails at most every 10 s. */
export const FOLLOW_POLL_MS = 2_000;

function role(value: string | undefined): ResultsLogRole {
  const r = value ?? 'server';
  if (!(RESULTS_LOG_ROLES as readonly string[]).includes(r))
    throw new CliError(`error: --role must be one of ${RESULTS_LOG_ROLES.join(', ')}, got "${r}"`);
  return r as ResultsLogRole;
}

/**
 * What of a fresh tail is new, given how many bytes of the log were printed already. The tail is the last
 * bytes of a log of `total` bytes, so it starts at byte total - length(tail); a gap (more was written than a
 * tail holds between two reads) is said, not hidden.
 */
export function newPart(tail: string, total: number, printed: number): { text: string; skipped: number } {
  const bytes = Buffer.from(tail, 'utf8');
  const start = total - bytes.length;
  if (printed >= total) return { text: '', skipped: 0 };
  if (printed <= start) return { text: tail, skipped: start - printed };
  return { text: bytes.subarray(printed - start).toString('utf8'), skipped: 0 };
}

export async function logsCommand(
  target: string,
  options: KubeOptions & { role?: string; follow?: boolean },
  write: (text: string) => void,
  signal?: AbortSignal,
): Promise<void> {
  const which = role(options.role);
  const kube = connect(options);
  const name = benchmarkName(target);
  let results = await loadResults(kube, name);
  const off =
    which === 'monitoring' && results.logs.monitoring === undefined ? monitoringOff(results) : undefined;
  if (off)
    throw new CliError(
      `error: inferencebenchmark "${name}" ran without monitoring (${off}): it has no monitoring log`,
    );
  if (!options.follow) {
    const text = results.logs[which];
    if (text === undefined)
      throw new CliError(
        `error: no ${which} log of inferencebenchmark "${name}" is stored (${describe(results, which)})`,
      );
    write(text);
    return;
  }
  let printed = 0;
  let job: string | undefined;
  for (;;) {
    const info = results.logsIndex[which];
    const text = results.logs[which];
    if (info && text !== undefined) {
      // A new job of the role (a new run) starts its log from the beginning.
      if (job !== undefined && info.jobId !== job) printed = 0;
      job = info.jobId;
      const part = newPart(text, info.bytes, printed);
      if (part.skipped > 0) write(`[... ${part.skipped} bytes of the log not kept between two reads ...]\n`);
      write(part.text);
      printed = Math.max(printed, info.bytes);
      // The final store: the ConfigMap will not change any more. (The server and client jobs have ended by
      // then; the shared monitoring job outlives the run, so its tail is never final.)
      if (results.complete) return;
    }
    if (signal?.aborted) return;
    await sleep(FOLLOW_POLL_MS, undefined, signal ? { signal } : {}).catch(() => undefined);
    if (signal?.aborted) return;
    const next = await reload(kube, name);
    if (!next) return;
    results = next;
  }
}

async function reload(kube: Kube, name: string): Promise<RunResults | undefined> {
  try {
    return await loadResults(kube, name);
  } catch (error) {
    // The benchmark was deleted while we followed it: what was printed stays the last word.
    if (error instanceof CliError && error.message.includes('NotFound')) return undefined;
    throw error;
  }
}

/**
 * Why a run has no monitoring log, when monitoring was off for it: the message of its MonitoringReady condition
 * (reason Disabled names the switch: spec.monitoring.enabled or the SlurmCluster). Undefined otherwise.
 */
function monitoringOff(results: RunResults): string | undefined {
  const condition = results.object?.status?.conditions?.find(
    (c) => c.type === BenchmarkConditionType.MonitoringReady,
  );
  if (condition?.reason === ConditionReason.Disabled)
    return condition.message || 'monitoring is switched off';
  if (results.object?.spec.monitoring.enabled === false)
    return 'monitoring is switched off by spec.monitoring.enabled';
  return undefined;
}

function describe(results: RunResults, which: ResultsLogRole): string {
  const info = results.logsIndex[which];
  if (info?.missing) return info.missing;
  return `roles with a log: ${Object.keys(results.logs).join(', ') || 'none'}`;
}
