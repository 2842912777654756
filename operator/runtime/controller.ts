import type { Logger } from 'pino';
import type { BackoffOptions } from './backoff.js';
import { type Clock, systemClock } from './clock.js';
import type { OperatorMetrics } from './metrics.js';
import { isTerminalError, keyFromString, type ReconcileResult, type Reconciler } from './reconciler.js';
import { WorkQueue } from './work-queue.js';

/**
 * Runs one reconciler: a work queue fed by event sources, and `concurrency` workers that take keys from it.
 * The queue guarantees one worker per key; the worker count bounds the total concurrency of this controller.
 */
export interface ControllerOptions {
  name: string;
  reconciler: Reconciler;
  logger: Logger;
  metrics: OperatorMetrics;
  concurrency?: number;
  clock?: Clock;
  backoff?: BackoffOptions;
  /** Keys with a higher priority are reconciled first (WorkQueueOptions.priorityOf). */
  priorityOf?: (key: string) => number;
}

export class Controller {
  readonly name: string;
  readonly queue: WorkQueue;
  private readonly reconciler: Reconciler;
  private readonly log: Logger;
  private readonly metrics: OperatorMetrics;
  private readonly concurrency: number;
  private readonly clock: Clock;
  private readonly abort = new AbortController();
  private workers: Promise<void>[] = [];

  constructor(options: ControllerOptions) {
    this.name = options.name;
    this.reconciler = options.reconciler;
    this.metrics = options.metrics;
    this.clock = options.clock ?? systemClock;
    this.concurrency = options.concurrency ?? 4;
    if (!Number.isInteger(this.concurrency) || this.concurrency < 1) {
      throw new Error(
        `controller ${this.name}: concurrency must be a positive integer, got ${this.concurrency}`,
      );
    }
    this.log = options.logger.child({ controller: this.name });
    const depthGauge = this.metrics.queueDepth.labels({ controller: this.name });
    depthGauge.set(0);
    this.queue = new WorkQueue({
      clock: this.clock,
      ...(options.backoff ? { backoff: options.backoff } : {}),
      ...(options.priorityOf ? { priorityOf: options.priorityOf } : {}),
      onDepthChange: (depth) => depthGauge.set(depth),
    });
  }

  /** Enqueues a key "namespace/name" (event handlers and mapping functions call this). */
  enqueue(key: string): void {
    this.queue.add(key);
  }

  start(): void {
    if (this.workers.length > 0) return;
    this.log.info({ concurrency: this.concurrency }, 'starting workers');
    for (let i = 0; i < this.concurrency; i++) this.workers.push(this.runWorker());
  }

  isStarted(): boolean {
    return this.workers.length > 0;
  }

  /** Stops taking keys, aborts the signal handed to reconciles, and waits for those in flight. */
  async stop(): Promise<void> {
    this.abort.abort();
    await this.queue.shutDownWithDrain();
    await Promise.all(this.workers);
    this.log.info('workers stopped');
  }

  private async runWorker(): Promise<void> {
    for (;;) {
      const key = await this.queue.get();
      if (key === undefined) return;
      try {
        await this.processKey(key);
      } finally {
        this.queue.done(key);
      }
    }
  }

  private async processKey(key: string): Promise<void> {
    const objectKey = keyFromString(key);
    const log = this.log.child({ namespace: objectKey.namespace, name: objectKey.name });
    const startedAt = this.clock.now();
    let result: ReconcileResult | undefined;
    try {
      result = await this.reconciler.reconcile(objectKey, { log, signal: this.abort.signal });
    } catch (error) {
      this.observe(startedAt);
      if (isTerminalError(error)) {
        // Reported (by the reconciler, in status and an Event) and not retried: only a change fixes it.
        this.queue.forget(key);
        this.metrics.reconcileTotal.inc({ controller: this.name, outcome: 'terminal' });
        this.metrics.reconcileErrors.inc({ controller: this.name, kind: 'terminal' });
        log.warn({ reason: error.reason, err: error.message }, 'reconcile failed for good; not retrying');
        return;
      }
      const retryInMs = this.queue.addRateLimited(key);
      this.metrics.reconcileTotal.inc({ controller: this.name, outcome: 'error' });
      if (isConflict(error)) {
        // Optimistic concurrency at work (our read was older than the object), not a failure to alarm on.
        this.metrics.reconcileErrors.inc({ controller: this.name, kind: 'conflict' });
        log.info(
          { retryInMs },
          'the object changed since it was read (409); reconciling again on fresh data',
        );
        return;
      }
      this.metrics.reconcileErrors.inc({ controller: this.name, kind: 'retryable' });
      log.error(
        { err: errorSummary(error), retryInMs, failures: this.queue.failuresOf(key) },
        'reconcile failed; retrying with backoff',
      );
      return;
    }
    this.observe(startedAt);
    this.queue.forget(key);
    if (result?.requeueAfterMs !== undefined && result.requeueAfterMs >= 0) {
      this.queue.addAfter(key, result.requeueAfterMs);
      this.metrics.reconcileTotal.inc({ controller: this.name, outcome: 'requeue' });
    } else {
      this.metrics.reconcileTotal.inc({ controller: this.name, outcome: 'success' });
    }
  }

  private observe(startedAt: number): void {
    this.metrics.reconcileDuration.observe({ controller: this.name }, (this.clock.now() - startedAt) / 1000);
  }
}

function isConflict(error: unknown): boolean {
  return error instanceof Error && (error as { code?: unknown }).code === 409;
}

/**
 * The first line of the message, the type and the code: enough to act on, never the raw HTTP body an
 * ApiException carries in its message (`HTTP-Code: … Body: …`).
 */
function errorSummary(error: unknown): { message: string; type: string; code?: number } {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    const message = (error.message.split('\n')[0] ?? '').slice(0, 500);
    return { message, type: error.name, ...(typeof code === 'number' ? { code } : {}) };
  }
  return { message: String(error).split('\n')[0] ?? '', type: typeof error };
}
