import { Counter, Gauge, Histogram, Pushgateway, Registry } from 'prom-client';
import type { PushgatewayReport } from '../api-schema.js';
import type { MeasuredRequest } from '../metrics.js';

export const PUSH_JOB_NAME = 'inference-benchmark-client';

export interface RunPusherOptions {
  url: string | null;
  benchmark: string;
  runId: string;
  model: string;
  intervalMs: number;
  /** Per push; a slow Pushgateway must not hold up the end of a run. */
  timeoutMs: number;
  progress: () => { completed: number; total: number | null; inFlight: number; stage?: number };
}

const LATENCY_BUCKETS_SECONDS = [
  0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300,
];

/**
 * Pushes one run's metrics to the Pushgateway, live every few seconds and once at the end. A fresh
 * Registry per run; the grouping key {benchmark, run} keeps concurrent runs apart. A Pushgateway that is
 * down never fails the run: failures are counted and reported.
 */
export class RunPusher {
  private readonly registry = new Registry();
  private readonly gateway: Pushgateway<'text/plain; version=0.0.4; charset=utf-8'> | null;
  private readonly report: PushgatewayReport;
  private timer: NodeJS.Timeout | null = null;
  private inFlight: Promise<void> | null = null;
  private readonly legacyTps: Gauge;
  private readonly requests: Counter;
  private readonly outputTokens: Counter;
  private readonly ttft: Histogram;
  private readonly e2e: Histogram;
  private readonly itl: Histogram;
  private readonly tpot: Histogram;
  private readonly decodeTps: Gauge;

  constructor(private readonly opts: RunPusherOptions) {
    this.report = { url: opts.url, pushes: 0, failures: 0, lastError: null };
    this.gateway =
      opts.url === null ? null : new Pushgateway(opts.url, { timeout: opts.timeoutMs }, this.registry);
    const registers = [this.registry];
    // Kept from the old Flask client so existing dashboards still work: eval_count / request time.
    this.legacyTps = new Gauge({
      name: 'tokens_per_second',
      help: 'Tokens per second of the last request of each client (eval_count / e2e), as the old client reported',
      labelNames: ['client_id', 'model'],
      registers,
    });
    this.requests = new Counter({
      name: 'ibo_client_requests_total',
      help: 'Measured requests by outcome (success or the error kind)',
      labelNames: ['model', 'outcome'],
      registers,
    });
    this.outputTokens = new Counter({
      name: 'ibo_client_output_tokens_total',
      help: 'Output tokens of successful measured requests',
      labelNames: ['model'],
      registers,
    });
    const histogram = (name: string, help: string): Histogram =>
      new Histogram({ name, help, labelNames: ['model'], buckets: LATENCY_BUCKETS_SECONDS, registers });
    this.ttft = histogram(
      'ibo_client_ttft_seconds',
      'Time to first token: request sent to first content chunk',
    );
    this.e2e = histogram('ibo_client_e2e_seconds', 'End-to-end latency: request sent to final chunk');
    this.itl = histogram(
      'ibo_client_itl_seconds',
      'Inter-token latency: gaps between consecutive content chunks',
    );
    this.tpot = histogram('ibo_client_tpot_seconds', 'Time per output token: (e2e - ttft) / (tokens - 1)');
    this.decodeTps = new Gauge({
      name: 'ibo_client_decode_tokens_per_second',
      help: 'eval_count / eval_duration of the last successful request (server-side decode speed)',
      labelNames: ['model'],
      registers,
    });
    const progress = opts.progress;
    new Gauge({
      name: 'ibo_client_run_completed_requests',
      help: 'Measured requests finished so far',
      registers,
      collect() {
        this.set(progress().completed);
      },
    });
    new Gauge({
      name: 'ibo_client_run_total_requests',
      help: 'Measured requests planned (absent for a duration-bound open loop)',
      registers,
      collect() {
        const total = progress().total;
        if (total !== null) this.set(total);
      },
    });
    new Gauge({
      name: 'ibo_client_run_stage',
      help: 'The load level (stage, 1-based) running now; a sweep runs several in one run',
      registers,
      collect() {
        this.set(progress().stage ?? 1);
      },
    });
    new Gauge({
      name: 'ibo_client_run_in_flight_requests',
      help: 'Requests in flight right now',
      registers,
      collect() {
        this.set(progress().inFlight);
      },
    });
  }

  observe({ record, itlsMs }: MeasuredRequest): void {
    if (record.warmup) return;
    const model = this.opts.model;
    this.requests.inc({ model, outcome: record.ok ? 'success' : (record.errorKind ?? 'unknown') });
    if (!record.ok) return;
    if (record.outputTokens !== null) this.outputTokens.inc({ model }, record.outputTokens);
    if (record.ttftMs !== null) this.ttft.observe({ model }, record.ttftMs / 1000);
    if (record.e2eMs !== null) this.e2e.observe({ model }, record.e2eMs / 1000);
    if (record.tpotMs !== null) this.tpot.observe({ model }, record.tpotMs / 1000);
    const itl = this.itl.labels({ model });
    for (const gapMs of itlsMs) itl.observe(gapMs / 1000);
    if (record.decodeTps !== null) this.decodeTps.set({ model }, record.decodeTps);
    if (record.clientTps !== null)
      this.legacyTps.set({ client_id: String(record.clientId), model }, record.clientTps);
  }

  startLive(): void {
    if (this.gateway === null || this.timer !== null) return;
    this.timer = setInterval(() => void this.pushOnce(), this.opts.intervalMs);
    this.timer.unref();
  }

  /** The final push; waits for a live push still in flight so the last one written is the final one. */
  async finish(): Promise<PushgatewayReport> {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
    if (this.inFlight !== null) await this.inFlight;
    await this.pushOnce();
    return this.status();
  }

  status(): PushgatewayReport {
    return { ...this.report };
  }

  private pushOnce(): Promise<void> {
    const gateway = this.gateway;
    if (gateway === null) return Promise.resolve();
    // One push at a time: a slow gateway gets skipped ticks, not a pile of concurrent PUTs.
    if (this.inFlight !== null) return this.inFlight;
    const push = gateway
      .push({ jobName: PUSH_JOB_NAME, groupings: { benchmark: this.opts.benchmark, run: this.opts.runId } })
      .then(
        () => {
          this.report.pushes++;
        },
        (err: unknown) => {
          this.report.failures++;
          this.report.lastError = err instanceof Error ? err.message : String(err);
        },
      )
      .finally(() => {
        this.inFlight = null;
      });
    this.inFlight = push;
    return push;
  }
}
