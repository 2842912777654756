import { type BackoffOptions, DEFAULT_BACKOFF, KeyedBackoff } from './backoff.js';
import { type Clock, systemClock, type TimerHandle } from './clock.js';

/**
 * A work queue with client-go's semantics (util/workqueue/queue.go):
 * - a key waits at most once (dirty set): adding it again while it waits is a no-op;
 * - a key handed to a worker is "processing" and is never handed to a second worker at the same time;
 * - a key added while it is processing is remembered and handed out again after `done`;
 * - `addAfter` delays a key (requeueAfter), keeping the earliest due time when asked twice;
 * - `addRateLimited` delays it by a per-key exponential backoff with jitter, `forget` resets that.
 * After `shutDown`, `get` resolves `undefined` at once: the backlog is dropped on purpose, because
 * reconciles are level-triggered and the next process relists everything anyway.
 */
export interface WorkQueueOptions {
  clock?: Clock;
  backoff?: BackoffOptions;
  /** Called whenever the number of waiting keys changes (for the queue depth gauge). */
  onDepthChange?: (depth: number) => void;
}

export class WorkQueue {
  private readonly clock: Clock;
  private readonly backoff: KeyedBackoff;
  private readonly onDepthChange: (depth: number) => void;
  private readonly waiting: string[] = [];
  private readonly dirty = new Set<string>();
  private readonly processing = new Set<string>();
  private readonly delayed = new Map<string, { dueAt: number; timer: TimerHandle }>();
  private readonly getters: Array<(key: string | undefined) => void> = [];
  private readonly drainWaiters: Array<() => void> = [];
  private shuttingDown = false;

  constructor(options: WorkQueueOptions = {}) {
    this.clock = options.clock ?? systemClock;
    this.backoff = new KeyedBackoff(options.backoff ?? DEFAULT_BACKOFF);
    this.onDepthChange = options.onDepthChange ?? (() => {});
  }

  add(key: string): void {
    if (this.shuttingDown || this.dirty.has(key)) return;
    this.dirty.add(key);
    if (this.processing.has(key)) return; // handed out again by done()
    this.enqueue(key);
  }

  addAfter(key: string, delayMs: number): void {
    if (this.shuttingDown) return;
    if (delayMs <= 0) {
      this.add(key);
      return;
    }
    const dueAt = this.clock.now() + delayMs;
    const existing = this.delayed.get(key);
    if (existing && existing.dueAt <= dueAt) return;
    existing?.timer.cancel();
    const timer = this.clock.setTimer(delayMs, () => {
      this.delayed.delete(key);
      this.add(key);
    });
    this.delayed.set(key, { dueAt, timer });
  }

  /** Schedules a retry after the key's next backoff delay; returns that delay. */
  addRateLimited(key: string): number {
    const delayMs = this.backoff.next(key);
    this.addAfter(key, delayMs);
    return delayMs;
  }

  /** Resets the key's backoff: call after a successful reconcile. */
  forget(key: string): void {
    this.backoff.forget(key);
  }

  failuresOf(key: string): number {
    return this.backoff.failuresOf(key);
  }

  /** Waits for the next key; `undefined` means the queue shut down and the worker should exit. */
  get(): Promise<string | undefined> {
    if (this.shuttingDown) return Promise.resolve(undefined);
    const key = this.waiting.shift();
    if (key !== undefined) return Promise.resolve(this.handOut(key));
    return new Promise((resolve) => this.getters.push(resolve));
  }

  /** Marks the key finished; if it was added meanwhile, it waits again. */
  done(key: string): void {
    this.processing.delete(key);
    if (this.dirty.has(key) && !this.shuttingDown) this.enqueue(key);
    if (this.processing.size === 0) {
      for (const resolve of this.drainWaiters.splice(0)) resolve();
    }
  }

  /** Keys waiting to be handed out (not the delayed or processing ones). */
  depth(): number {
    return this.waiting.length;
  }

  delayedCount(): number {
    return this.delayed.size;
  }

  processingCount(): number {
    return this.processing.size;
  }

  isShuttingDown(): boolean {
    return this.shuttingDown;
  }

  /** Stops handing out keys; waiting `get` calls resolve `undefined`. Keys in flight may still finish. */
  shutDown(): void {
    if (this.shuttingDown) return;
    this.shuttingDown = true;
    for (const { timer } of this.delayed.values()) timer.cancel();
    this.delayed.clear();
    this.waiting.length = 0;
    this.dirty.clear();
    this.onDepthChange(0);
    for (const resolve of this.getters.splice(0)) resolve(undefined);
  }

  /** Shuts down and resolves once every key in flight is `done` (graceful shutdown). */
  shutDownWithDrain(): Promise<void> {
    this.shutDown();
    if (this.processing.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.drainWaiters.push(resolve));
  }

  private enqueue(key: string): void {
    const getter = this.getters.shift();
    if (getter) {
      getter(this.handOut(key));
      return;
    }
    this.waiting.push(key);
    this.onDepthChange(this.waiting.length);
  }

  private handOut(key: string): string {
    this.processing.add(key);
    this.dirty.delete(key);
    this.onDepthChange(this.waiting.length);
    return key;
  }
}
