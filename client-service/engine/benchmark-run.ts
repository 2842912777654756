import { setMaxListeners } from 'node:events';
import {
  DEFAULT_SATURATION_THRESHOLD,
  type PromptRow,
  type RunEnvironment,
  type RunState,
  type RunStatus,
  type Saturation,
  type StageState,
  type StageSummary,
  type StartRunRequest,
} from '../api-schema.js';
import { monotonicMs } from '../clock.js';
import { type MeasuredRequest, startLag, summarize } from '../metrics.js';
import type { ConnectionPool } from '../ollama/connection-pool.js';
import { createConnectionPool, StreamClient } from '../ollama/stream-client.js';
import type { SseParserFactory } from '../openai/sse-parser.js';
import { SERVICE_VERSION } from '../routes/health.js';
import { exponentialGapMs, seededRandom } from './arrivals.js';
import { readPromptsFile } from './prompts-file.js';
import { measuredRequest } from './records.js';
import { repeatStats, repeatWarnings } from './repeat-stats.js';
import type { RunFiles, StagesFile } from './run-files.js';
import type { RunPusher } from './run-pusher.js';
import { type LevelFigures, saturation, stopReason } from './saturation.js';
import { Semaphore } from './semaphore.js';
import { planStages, type StagePlan, stageLoad } from './stage-plan.js';
import { compactStage, poolWindows, type RepeatReport, type WindowFigures } from './stage-summary.js';

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
  stage: number;
}

/** One repeat of one level: its window and what it measured. */
class StageWindow {
  readonly measured: MeasuredRequest[] = [];
  windowStartMs: number | null = null;
  windowEndMs: number | null = null;
  /** End of the last measured (not cancelled) request: where the window closes. */
  lastEndMs: number | null = null;
  lastArrivalMs: number | null = null;
  arrivals = 0;
  busyMs = 0;
  completed = 0;

  constructor(
    readonly plan: StagePlan,
    readonly repeat: number,
  ) {}

  wallTimeSeconds(): number | null {
    if (this.windowStartMs === null) return null;
    const end = this.windowEndMs ?? monotonicMs();
    return end > this.windowStartMs ? (end - this.windowStartMs) / 1000 : null;
  }

  /** Open loop: the time arrivals were scheduled over (the whole duration when the level ran it out). */
  arrivalWindowSeconds(aborted: boolean): number | null {
    if (this.windowStartMs === null) return null;
    if (this.plan.durationSeconds !== null && this.windowEndMs !== null && !aborted) {
      return this.plan.durationSeconds;
    }
    const end = this.lastArrivalMs ?? monotonicMs();
    return (end - this.windowStartMs) / 1000;
  }

  figures(aborted: boolean): WindowFigures {
    return {
      measured: this.measured,
      wallTimeSeconds: this.wallTimeSeconds(),
      busyMs: this.busyMs,
      arrivals: this.arrivals,
      arrivalSeconds: this.plan.mode === 'open' ? this.arrivalWindowSeconds(aborted) : null,
    };
  }
}

/**
 * One benchmark run: its stages (one load level each, `workload.sweep`; one stage without a sweep), each
 * `workload.repeat` times: warmup, then the measured window in closed or open loop. Then the summaries,
 * files and the final push. Cancel aborts every request in flight at once (cancelAll) and stops scheduling.
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
  private readonly measured: MeasuredRequest[] = [];
  private completed = 0;
  private cancelledRequests = 0;
  private warmupCompleted = 0;
  private inFlight = 0;
  private nextIndex = 0;
  private readonly plans: readonly StagePlan[];
  private readonly repeats: number;
  /** Per stage, its repeats so far. */
  private readonly windows: StageWindow[][];
  private readonly stageStates: StageState[];
  /** Finished stages do not change: their compact summary is computed once. */
  private readonly stageCache = new Map<number, StageSummary>();
  private readonly reports: RepeatReport[] = [];
  private current: StageWindow | null = null;
  private stop: { after: number; reason: 'saturated' | 'slo' } | null = null;
  private readonly abort = new AbortController();
  private readonly pool: ConnectionPool;
  private readonly client: StreamClient;
  private readonly files: RunFiles | null;
  private readonly pusher: RunPusher;
  /** The prompts, in turn; from workload.promptsFile they are read when the run starts. */
  private prompts: readonly PromptRow[];
  private readonly timeoutMs: number;

  constructor(
    readonly request: StartRunRequest,
    private readonly deps: RunDependencies,
  ) {
    this.id = request.id;
    this.benchmark = request.benchmark ?? deps.defaultBenchmark;
    this.model = request.model ?? deps.defaultModel;
    const w = request.workload;
    this.prompts =
      w.promptsFile !== undefined ? [] : (w.prompts ?? [w.prompt as string]).map((prompt) => ({ prompt }));
    this.timeoutMs = w.requestTimeoutSeconds * 1000;
    this.plans = planStages(request);
    this.repeats = w.repeat;
    this.windows = this.plans.map(() => []);
    this.stageStates = this.plans.map(() => 'pending');
    // No hidden cap: as many keep-alive connections as requests can be in flight at the busiest level.
    this.pool = createConnectionPool(deps.ollamaUrl, poolSize(this.plans));
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
    const aborted = this.abort.signal.aborted;
    const all = this.windows.flat();
    const wallTimeSeconds = all.reduce<number | null>((sum, win) => {
      const seconds = win.wallTimeSeconds();
      return seconds === null ? sum : (sum ?? 0) + seconds;
    }, null);
    const current = this.current;
    const stages = this.stageSummaries();
    const openWindow = current?.plan.mode === 'open' ? current : null;
    const w = this.request.workload;
    const arrivalSeconds = openWindow?.arrivalWindowSeconds(aborted) ?? null;
    return {
      id: this.id,
      benchmark: this.benchmark,
      model: this.model,
      state: this.state,
      message: this.message,
      startedAt: this.startedAt.toISOString(),
      finishedAt: this.finishedAt?.toISOString() ?? null,
      progress: this.fullProgress(),
      summary: summarize(this.measured, {
        runId: this.id,
        windowStartMs: null,
        windowEndMs: null,
        openLoop: this.plans.some((p) => p.mode === 'open'),
        wallTimeSeconds,
      }),
      openLoop:
        openWindow === null
          ? this.plans.length === 1 && this.plans[0]?.mode === 'open'
            ? { targetRate: this.plans[0].ratePerSecond as number, achievedRate: null }
            : null
          : {
              targetRate: openWindow.plan.ratePerSecond as number,
              achievedRate:
                arrivalSeconds !== null && arrivalSeconds > 0 ? openWindow.arrivals / arrivalSeconds : null,
            },
      startLagMs: startLag(this.measured),
      stages,
      saturation: this.saturation(stages),
      warnings: stages.flatMap((s) => s.warnings.map((text) => `stage ${s.stage}: ${text}`)),
      pushgateway: this.pusher.status(),
      outputDir: this.files?.dir ?? null,
      environment: runEnvironment(this.request.environment),
      promptsFile: w.promptsFile === undefined ? null : { path: w.promptsFile, rows: this.prompts.length },
    };
  }

  private stageSummaries(): StageSummary[] {
    const aborted = this.abort.signal.aborted;
    return this.plans.map((plan, i) => {
      const cached = this.stageCache.get(plan.stage);
      if (cached !== undefined) return cached;
      const state = this.stageStates[i] as StageState;
      const windows = this.windows[i] as StageWindow[];
      const opened = windows.filter((w) => w.windowStartMs !== null);
      const pooled =
        opened.length === 0
          ? null
          : poolWindows(
              this.id,
              plan,
              opened.map((w) => w.figures(aborted)),
              this.request.slo,
            );
      const finished = this.reports.filter((r) => r.stage === plan.stage);
      const stats =
        this.repeats > 1 && finished.length >= 2 ? repeatStats(finished.map((r) => r.summary)) : null;
      const summary = compactStage(
        plan,
        state,
        finished.length,
        pooled,
        stats,
        stats === null ? [] : repeatWarnings(stats),
      );
      if (state === 'done' || state === 'skipped') this.stageCache.set(plan.stage, summary);
      return summary;
    });
  }

  private saturation(stages: readonly StageSummary[]): Saturation {
    const sweep = this.request.workload.sweep;
    const first = this.plans[0];
    return saturation(this.levelFigures(stages), {
      load: first?.mode === 'open' ? 'ratePerSecond' : 'clients',
      threshold: sweep?.saturationThreshold ?? DEFAULT_SATURATION_THRESHOLD,
      stoppedAfterStage: this.stop?.after ?? null,
      stopReason: this.stop?.reason ?? null,
    });
  }

  /** The finished levels, in run order, as the saturation summary sees them. */
  private levelFigures(stages: readonly StageSummary[]): LevelFigures[] {
    return stages
      .filter((s) => s.state === 'done')
      .map((s) => ({
        stage: s.stage,
        load: stageLoad(this.plans[s.stage - 1] as StagePlan),
        outputTokensPerSecond: s.outputTokensPerSecond,
        requestsPerSecond: s.requestsPerSecond,
        e2eP50Ms: s.e2eMs.p50,
        sloMet: s.sloMet,
        goodput: s.goodput,
      }));
  }

  private progress(): Progress {
    return {
      completed: this.completed,
      total: this.plannedTotal(),
      inFlight: this.inFlight,
      stage: this.current?.plan.stage ?? 1,
    };
  }

  /** Requests planned over the stages that run (an early stop drops the rest); null when one runs by time. */
  private plannedTotal(): number | null {
    let total = 0;
    for (const [i, plan] of this.plans.entries()) {
      if (this.stageStates[i] === 'skipped') continue;
      if (plan.requests === null) return null;
      total += plan.requests * this.repeats;
    }
    return total;
  }

  private fullProgress(): RunStatus['progress'] {
    const current = this.current;
    const plan = current?.plan ?? (this.plans[0] as StagePlan);
    const stageCompleted = current?.completed ?? 0;
    const counted = plan.requests === null ? `${stageCompleted}` : `${stageCompleted}/${plan.requests}`;
    const repeat = current?.repeat ?? 1;
    const repeatText = this.repeats > 1 ? ` (repeat ${repeat}/${this.repeats})` : '';
    let warmupTotal = 0;
    for (const [i, p] of this.plans.entries()) {
      if (this.stageStates[i] !== 'skipped') warmupTotal += p.warmupRequests * this.repeats;
    }
    return {
      completed: this.completed,
      cancelled: this.cancelledRequests,
      total: this.plannedTotal(),
      inFlight: this.inFlight,
      warmupCompleted: this.warmupCompleted,
      warmupTotal,
      stage: plan.stage,
      stages: this.plans.length,
      repeat,
      repeats: this.repeats,
      stageCompleted,
      stageTotal: plan.requests,
      display: `stage ${plan.stage}/${this.plans.length}${repeatText}, ${counted} requests`,
    };
  }

  private async execute(): Promise<void> {
    // The state flips last: whoever sees a finished run also sees its final push and its files.
    let finalState: RunState;
    try {
      await this.files?.open();
      const file = this.request.workload.promptsFile;
      if (file !== undefined) this.prompts = await readPromptsFile(file);
      this.pusher.startLive();
      await this.runStages();
      finalState = this.abort.signal.aborted ? 'cancelled' : this.judgeWindow();
    } catch (err) {
      finalState = 'failed';
      this.message = err instanceof Error ? err.message : String(err);
      const current = this.current;
      if (current !== null) {
        current.windowEndMs ??= monotonicMs();
        this.stageStates[current.plan.stage - 1] = 'failed';
      }
      this.skipPending();
    }
    this.finishedAt = new Date();
    try {
      await this.pusher.finish();
      const status = { ...this.status(), state: finalState };
      await this.files?.writeStages(this.stagesFile(status));
      await this.files?.finish(
        this.measured.map((m) => m.record),
        status,
      );
    } catch (err) {
      const reason = err instanceof Error ? err.message : String(err);
      this.message = `${this.message ?? ''} could not write the result files: ${reason}`.trim();
    }
    await this.pool.close().catch(() => undefined);
    this.state = finalState;
  }

  private async runStages(): Promise<void> {
    const signal = this.abort.signal;
    const sweep = this.request.workload.sweep;
    for (const [i, plan] of this.plans.entries()) {
      if (this.stop !== null || signal.aborted) break;
      this.stageStates[i] = 'running';
      for (let repeat = 1; repeat <= this.repeats && !signal.aborted; repeat++) {
        const win = new StageWindow(plan, repeat);
        (this.windows[i] as StageWindow[]).push(win);
        this.current = win;
        await this.runWindow(win);
        if (!signal.aborted) this.reports.push(this.repeatReport(win));
      }
      if (signal.aborted) {
        this.stageStates[i] = 'cancelled';
        break;
      }
      this.stageStates[i] = 'done';
      if (sweep?.stopWhenSaturated) {
        const reason = stopReason(this.levelFigures(this.stageSummaries()), sweep.saturationThreshold);
        if (reason !== null) this.stop = { after: plan.stage, reason };
      }
      // A killed job still leaves the levels it finished.
      await this.files?.writeStages(this.stagesFile(this.status()));
    }
    this.skipPending();
  }

  private skipPending(): void {
    for (const [i, state] of this.stageStates.entries()) {
      if (state === 'pending') this.stageStates[i] = 'skipped';
    }
  }

  private async runWindow(win: StageWindow): Promise<void> {
    const plan = win.plan;
    if (plan.warmupRequests > 0) {
      await this.closedLoop(win, Math.min(plan.clients, plan.warmupRequests), plan.warmupRequests, true);
    }
    win.windowStartMs = monotonicMs();
    if (plan.mode === 'closed') await this.closedLoop(win, plan.clients, plan.requests, false);
    else await this.openLoop(win);
    win.windowEndMs = win.lastEndMs ?? monotonicMs();
  }

  private repeatReport(win: StageWindow): RepeatReport {
    const pooled = poolWindows(this.id, win.plan, [win.figures(false)], this.request.slo);
    return {
      stage: win.plan.stage,
      repeat: win.repeat,
      mode: win.plan.mode,
      clients: win.plan.mode === 'closed' ? win.plan.clients : null,
      ratePerSecond: win.plan.ratePerSecond,
      achieved: pooled.achieved,
      summary: pooled.summary,
      slo: pooled.slo,
    };
  }

  /** Everything per level, in full: the run's stages.json. */
  private stagesFile(status: RunStatus): StagesFile {
    const aborted = this.abort.signal.aborted;
    return {
      runId: this.id,
      stages: status.stages,
      saturation: status.saturation,
      levels: this.plans.map((plan, i) => {
        const opened = (this.windows[i] as StageWindow[]).filter((w) => w.windowStartMs !== null);
        const pooled =
          opened.length === 0
            ? null
            : poolWindows(
                this.id,
                plan,
                opened.map((w) => w.figures(aborted)),
                this.request.slo,
              );
        return { plan, summary: pooled?.summary ?? null, slo: pooled?.slo ?? null };
      }),
      repeats: this.reports,
    };
  }

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

  /**
   * `clients` loops that each send back to back until `total` requests have been sent (null: no count),
   * and, for a measured level with durationSeconds, none starts after the duration.
   */
  private async closedLoop(
    win: StageWindow,
    clients: number,
    total: number | null,
    warmup: boolean,
  ): Promise<void> {
    let sent = 0;
    const limit = total ?? Number.POSITIVE_INFINITY;
    const perClient = Math.ceil(limit / clients);
    const duration = warmup ? null : win.plan.durationSeconds;
    const endMs =
      duration === null ? Number.POSITIVE_INFINITY : (win.windowStartMs as number) + duration * 1000;
    const loops: Promise<void>[] = [];
    for (let clientId = 0; clientId < clients; clientId++) {
      loops.push(
        (async () => {
          for (let i = 0; i < perClient && sent < limit && !this.abort.signal.aborted; i++) {
            const now = monotonicMs();
            if (now >= endMs) break;
            sent++;
            await this.sendOne(win, clientId, warmup, now);
          }
        })(),
      );
    }
    await Promise.all(loops);
  }

  /** Poisson arrivals at the level's rate, optionally capped in flight; arrivals never wait for answers. */
  private async openLoop(win: StageWindow): Promise<void> {
    const plan = win.plan;
    const w = this.request.workload;
    const rate = plan.ratePerSecond as number;
    // Every repeat and level draws its own schedule, repeatable from the seed.
    const random =
      w.seed === undefined ? Math.random : seededRandom(w.seed + (plan.stage - 1) * 1000 + (win.repeat - 1));
    const limit = plan.requests ?? Number.POSITIVE_INFINITY;
    const endMs =
      plan.durationSeconds === null
        ? Number.POSITIVE_INFINITY
        : (win.windowStartMs as number) + plan.durationSeconds * 1000;
    const semaphore = plan.maxConcurrency === null ? null : new Semaphore(plan.maxConcurrency);
    const signal = this.abort.signal;
    const pending = new Set<Promise<void>>();
    let scheduledMs = win.windowStartMs as number;
    for (let n = 0; n < limit && !signal.aborted; n++) {
      scheduledMs += exponentialGapMs(rate, random);
      if (scheduledMs > endMs) break;
      await sleepUntil(scheduledMs, signal);
      if (signal.aborted) break;
      if (semaphore !== null && !(await semaphore.acquire(signal))) break;
      win.arrivals++;
      win.lastArrivalMs = monotonicMs();
      const request = this.sendOne(win, n % plan.clients, false, scheduledMs).finally(() => {
        semaphore?.release();
        pending.delete(request);
      });
      pending.add(request);
    }
    await Promise.all(pending);
  }

  private async sendOne(
    win: StageWindow,
    clientId: number,
    warmup: boolean,
    scheduledStartMs: number,
  ): Promise<void> {
    const index = this.nextIndex++;
    const startedAtWallMs = Date.now();
    this.inFlight++;
    const w = this.request.workload;
    const row = this.prompts[index % this.prompts.length] as PromptRow;
    const outcome = await this.client.generate(
      {
        model: this.model,
        protocol: this.request.protocol,
        api: this.request.api,
        openaiApi: this.request.openaiApi,
        prompt: row.prompt,
        // A row's own bound (a dataset's reference answer) wins, within workload.maxTokens.
        maxTokens: rowMaxTokens(row, w.maxTokens),
        temperature: w.temperature,
        seed: w.seed,
        requestId: `${this.id}-${index}`,
      },
      { timeoutMs: this.timeoutMs },
    );
    this.inFlight--;
    const endMs = monotonicMs();
    const m = measuredRequest(
      {
        runId: this.id,
        index,
        clientId,
        stage: win.plan.stage,
        repeat: win.repeat,
        warmup,
        originMs: this.originMs,
        scheduledStartMs,
        startedAtWallMs,
      },
      outcome,
    );
    this.measured.push(m);
    win.measured.push(m);
    if (warmup) this.warmupCompleted++;
    else if (m.record.errorKind === 'cancelled') this.cancelledRequests++;
    else {
      this.completed++;
      win.completed++;
      win.busyMs += endMs - outcome.timings.sentMs;
      win.lastEndMs = endMs;
    }
    this.files?.append(m.record);
    this.pusher.observe(m);
    this.deps.onRecord?.(m);
  }
}

/** A prompt row's maxTokens within the workload's: the smaller of the two that are set. */
export function rowMaxTokens(row: PromptRow, workloadMax: number | undefined): number | undefined {
  if (row.maxTokens === undefined) return workloadMax;
  return workloadMax === undefined ? row.maxTokens : Math.min(row.maxTokens, workloadMax);
}

/** The operator's environment, with this service's version: what summary.json says ran where. */
function runEnvironment(environment: RunEnvironment | undefined): RunEnvironment | null {
  return environment === undefined ? null : { ...environment, clientServiceVersion: SERVICE_VERSION };
}

/** The pool's size: the most requests any level can have in flight (null: no cap, an uncapped open loop). */
function poolSize(plans: readonly StagePlan[]): number | null {
  let size = 0;
  for (const plan of plans) {
    if (plan.mode === 'closed') size = Math.max(size, plan.clients);
    else if (plan.maxConcurrency === null) return null;
    else size = Math.max(size, plan.maxConcurrency);
  }
  return size;
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
