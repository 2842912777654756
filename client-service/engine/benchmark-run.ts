import { setMaxListeners } from 'node:events';
import type { RunState, RunStatus, StartRunRequest } from '../api-schema.js';
import { monotonicMs } from '../clock.js';
import { type MeasuredRequest, startLag, summarize } from '../metrics.js';
import type { ConnectionPool } from '../ollama/connection-pool.js';
import { createConnectionPool, StreamClient } from '../ollama/stream-client.js';
import type { SseParserFactory } from '../openai/sse-parser.js';
import { exponentialGapMs, seededRandom } from './arrivals.js';
import { measuredRequest } from './records.js';
import type { RunFiles } from './run-files.js';
import type { RunPusher } from './run-pusher.js';
import { Semaphore } from './semaphore.js';

export interface RunDependencies {
  ollamaUrl: string;
  /** The model when the request names none. */
  defaultModel: string;
  defaultBenchmark: string;
  files: (runId: string) => RunFiles | null;
  pusher: (run: { runId: string; benchmark: string; model: string; progress: () => Progress }) => RunPusher;
  onRecord?: (m: MeasuredRequest) => void;
  /** How OpenAI answers are split into events; only bench:client swaps it, to compare parsers. */
  sseParser?: SseParserFactory;
}

interface Progress {
  completed: number;
  total: number | null;
  inFlight: number;
}

/**
 * One benchmark run: warmup, then the measured window in closed or open loop, then the summary, files and
 * the final push. Cancel aborts every request in flight at once (cancelAll) and stops scheduling.
 */
export class BenchmarkRun {
  readonly id: string;
  readonly benchmark: string;
  readonly model: string;
  readonly done: Promise<void>;
  private state: RunState = 'running';
  private message: string | null = null;
  private readonly startedAt = new Date();
  private finishedAt: Date | null = null;
  /** Monotonic ms that the records' *StartMs fields count from. */
  readonly originMs = monotonicMs();
  private windowStartMs: number | null = null;
  private windowEndMs: number | null = null;
  private lastArrivalMs: number | null = null;
  private arrivals = 0;
  private readonly measured: MeasuredRequest[] = [];
  private completed = 0;
  private cancelledRequests = 0;
  private warmupCompleted = 0;
  private inFlight = 0;
  private nextIndex = 0;
  private readonly abort = new AbortController();
  private readonly pool: ConnectionPool;
  private readonly client: StreamClient;
  private readonly files: RunFiles | null;
  private readonly pusher: RunPusher;
  private readonly prompts: readonly string[];
  private readonly timeoutMs: number;

  constructor(
    readonly request: StartRunRequest,
    private readonly deps: RunDependencies,
  ) {
    this.id = request.id;
    this.benchmark = request.benchmark ?? deps.defaultBenchmark;
    this.model = request.model ?? deps.defaultModel;
    const w = request.workload;
    this.prompts = w.prompts ?? [w.prompt as string];
    this.timeoutMs = w.requestTimeoutSeconds * 1000;
    // No hidden cap: as many keep-alive connections as requests can be in flight.
    this.pool = createConnectionPool(
      deps.ollamaUrl,
      w.mode === 'closed' ? w.clients : (w.maxConcurrency ?? null),
    );
    this.client = new StreamClient(
      deps.ollamaUrl,
      this.pool,
      deps.sseParser === undefined ? {} : { sseParser: deps.sseParser },
    );
    this.files = deps.files(this.id);
    this.pusher = deps.pusher({
      runId: this.id,
      benchmark: this.benchmark,
      model: this.model,
      progress: () => this.progress(),
    });
    // Waits (open-loop arrivals) listen on the run's abort signal; thousands may be pending at once.
    setMaxListeners(0, this.abort.signal);
    this.done = this.execute();
  }

  cancel(): void {
    if (this.state !== 'running' || this.finishedAt !== null) return;
    this.message = 'cancelled by request';
    this.abort.abort();
    // Requests in flight end as `cancelled` at once; they do not each listen on the run's signal.
    this.client.cancelAll();
  }

  get isFinished(): boolean {
    return this.state !== 'running';
  }

  records(): readonly MeasuredRequest[] {
    return this.measured;
  }

  status(): RunStatus {
    const w = this.request.workload;
    const windowEndMs = this.windowEndMs ?? (this.windowStartMs === null ? null : monotonicMs());
    const arrivalWindowSeconds = this.arrivalWindowSeconds();
    return {
      id: this.id,
      benchmark: this.benchmark,
      model: this.model,
      state: this.state,
      message: this.message,
      startedAt: this.startedAt.toISOString(),
      finishedAt: this.finishedAt?.toISOString() ?? null,
      progress: {
        completed: this.completed,
        cancelled: this.cancelledRequests,
        total: this.plannedTotal(),
        inFlight: this.inFlight,
        warmupCompleted: this.warmupCompleted,
        warmupTotal: w.warmupRequests,
      },
      summary: summarize(this.measured, {
        runId: this.id,
        windowStartMs: this.windowStartMs,
        windowEndMs,
        openLoop: w.mode === 'open',
      }),
      openLoop:
        w.mode === 'open'
          ? {
              targetRate: w.ratePerSecond as number,
              achievedRate:
                arrivalWindowSeconds !== null && arrivalWindowSeconds > 0
                  ? this.arrivals / arrivalWindowSeconds
                  : null,
            }
          : null,
      startLagMs: startLag(this.measured),
      pushgateway: this.pusher.status(),
      outputDir: this.files?.dir ?? null,
    };
  }

  private progress(): Progress {
    return { completed: this.completed, total: this.plannedTotal(), inFlight: this.inFlight };
  }

  private plannedTotal(): number | null {
    const w = this.request.workload;
    if (w.mode === 'open' && w.durationSeconds !== undefined) return null;
    return w.clients * w.requestsPerClient;
  }

  private arrivalWindowSeconds(): number | null {
    const w = this.request.workload;
    if (this.windowStartMs === null) return null;
    if (w.durationSeconds !== undefined && this.windowEndMs !== null && !this.abort.signal.aborted) {
      return w.durationSeconds;
    }
    const end = this.lastArrivalMs ?? monotonicMs();
    return (end - this.windowStartMs) / 1000;
  }

  private async execute(): Promise<void> {
    // The state flips last: whoever sees a finished run also sees its final push and its files.
    let finalState: RunState;
    try {
      await this.files?.open();
      this.pusher.startLive();
      const w = this.request.workload;
      if (w.warmupRequests > 0)
        await this.closedLoop(Math.min(w.clients, w.warmupRequests), w.warmupRequests, true);
      this.windowStartMs = monotonicMs();
      if (w.mode === 'closed') await this.closedLoop(w.clients, w.clients * w.requestsPerClient, false);
      else await this.openLoop();
      this.windowEndMs = this.lastEndMs ?? monotonicMs();
      finalState = this.abort.signal.aborted ? 'cancelled' : this.judgeWindow();
    } catch (err) {
      finalState = 'failed';
      this.message = err instanceof Error ? err.message : String(err);
      this.windowEndMs ??= monotonicMs();
    }
    this.finishedAt = new Date();
    try {
      await this.pusher.finish();
      await this.files?.finish(
        this.measured.map((m) => m.record),
        { ...this.status(), state: finalState },
      );
    } catch (err) {
      const reason = err instanceof Error ? err.message : String(err);
      this.message = `${this.message ?? ''} could not write the result files: ${reason}`.trim();
    }
    await this.pool.close().catch(() => undefined);
    this.state = finalState;
  }

  private lastEndMs: number | null = null;

  /** A window in which every measured request failed measured nothing: the run failed, and says how. */
  private judgeWindow(): RunState {
    const measured = this.measured.filter((m) => !m.record.warmup && m.record.errorKind !== 'cancelled');
    if (measured.length === 0 || measured.some((m) => m.record.ok)) return 'succeeded';
    const kinds = new Map<string, number>();
    for (const { record } of measured) {
      const kind = record.errorKind ?? 'unknown';
      kinds.set(kind, (kinds.get(kind) ?? 0) + 1);
    }
    const counted = [...kinds].map(([kind, count]) => `${count} ${kind}`).join(', ');
    this.message = `every measured request failed (${measured.length}: ${counted})`;
    return 'failed';
  }

  /** `clients` loops that each send back to back until `total` requests have been sent. */
  private async closedLoop(clients: number, total: number, warmup: boolean): Promise<void> {
    let sent = 0;
    const perClient = Math.ceil(total / clients);
    const loops: Promise<void>[] = [];
    for (let clientId = 0; clientId < clients; clientId++) {
      loops.push(
        (async () => {
          for (let i = 0; i < perClient && sent < total && !this.abort.signal.aborted; i++) {
            sent++;
            await this.sendOne(clientId, warmup, monotonicMs());
          }
        })(),
      );
    }
    await Promise.all(loops);
  }

  /** Poisson arrivals at `rate`, optionally capped in flight; arrivals never wait for answers. */
  private async openLoop(): Promise<void> {
    const w = this.request.workload;
    const rate = w.ratePerSecond as number;
    const random = w.seed === undefined ? Math.random : seededRandom(w.seed);
    const limit =
      w.durationSeconds === undefined ? w.clients * w.requestsPerClient : Number.POSITIVE_INFINITY;
    const endMs =
      w.durationSeconds === undefined
        ? Number.POSITIVE_INFINITY
        : (this.windowStartMs as number) + w.durationSeconds * 1000;
    const semaphore = w.maxConcurrency === undefined ? null : new Semaphore(w.maxConcurrency);
    const signal = this.abort.signal;
    const pending = new Set<Promise<void>>();
    let scheduledMs = this.windowStartMs as number;
    for (let n = 0; n < limit && !signal.aborted; n++) {
      scheduledMs += exponentialGapMs(rate, random);
      if (scheduledMs > endMs) break;
      await sleepUntil(scheduledMs, signal);
      if (signal.aborted) break;
      if (semaphore !== null && !(await semaphore.acquire(signal))) break;
      this.arrivals++;
      this.lastArrivalMs = monotonicMs();
      const request = this.sendOne(n % w.clients, false, scheduledMs).finally(() => {
        semaphore?.release();
        pending.delete(request);
      });
      pending.add(request);
    }
    await Promise.all(pending);
  }

  private async sendOne(clientId: number, warmup: boolean, scheduledStartMs: number): Promise<void> {
    const index = this.nextIndex++;
    const startedAtWallMs = Date.now();
    this.inFlight++;
    const w = this.request.workload;
    const outcome = await this.client.generate(
      {
        model: this.model,
        protocol: this.request.protocol,
        api: this.request.api,
        openaiApi: this.request.openaiApi,
        prompt: this.prompts[index % this.prompts.length] as string,
        maxTokens: w.maxTokens,
        temperature: w.temperature,
        seed: w.seed,
        requestId: `${this.id}-${index}`,
      },
      { timeoutMs: this.timeoutMs },
    );
    this.inFlight--;
    const m = measuredRequest(
      { runId: this.id, index, clientId, warmup, originMs: this.originMs, scheduledStartMs, startedAtWallMs },
      outcome,
    );
    this.measured.push(m);
    if (warmup) this.warmupCompleted++;
    else if (m.record.errorKind === 'cancelled') this.cancelledRequests++;
    else {
      this.completed++;
      this.lastEndMs = monotonicMs();
    }
    this.files?.append(m.record);
    this.pusher.observe(m);
    this.deps.onRecord?.(m);
  }
}

function sleepUntil(targetMs: number, signal: AbortSignal): Promise<void> {
  const delay = targetMs - monotonicMs();
  // Late already: go now. Timers cannot wait less than ~1 ms, so high rates launch in small bursts.
  if (delay <= 0) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(done, delay);
    function done(): void {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}
