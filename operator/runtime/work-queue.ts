import { type BackoffOptions, DEFAULT_BACKOFF, KeyedBackoff } from './backoff.js';
import { type Clock, systemClock, type TimerHandle } from './clock.js';

/**
 * A work queue with client-go's semantics (util/workqueue/queue.go):
 * - a key waits at most once (dirty set): adding it again while it waits is a no-op;
 * - a key handed to a worker is "processing" and is never handed to a second worker at the same time;
 * - a key added while it is processing is remembered and handed out again after `done`;
 * - `addAfter` delays a key (requeueAfter), keeping the earliest due time when asked twice;
 * - `addRateLimited` delays it by a per-key exponential backoff with jitter, `forget` resets that.
 * - `priorityOf` (controller-runtime's priority queue, pkg/controller/priorityqueue): a waiting key with a
 *   higher priority is handed out first, first-in first-out within one priority. It is asked whenever a key
 *   starts to wait and when a waiting key is added again (a raised priority moves it up), so a controller
 *   can put the keys that are doing work ahead of a backlog of keys that only wait.
 * After `shutDown`, `get` resolves `undefined` at once: the backlog is dropped on purpose, because
 * reconciles are level-triggered and the next process relists everything anyway.
 */
export interface WorkQueueOptions {
  clock?: Clock;
  backoff?: BackoffOptions;
  /** Called whenever the number of waiting keys changes (for the queue depth gauge). */
  onDepthChange?: (depth: number) => void;
  /** Higher is handed out first (default: 0 for every key, plain first-in first-out). */
  priorityOf?: (key: string) => number;
}

export class WorkQueue {
  private readonly clock: Clock;
  private readonly backoff: KeyedBackoff;
  private readonly onDepthChange: (depth: number) => void;
  private readonly priorityOf: (key: string) => number;
  /** Waiting keys by priority; a Set keeps insertion order, so each bucket is first-in first-out. */
  private readonly waiting = new Map<number, Set<string>>();
  /** The bucket each waiting key is in. */
  private readonly waitingPriority = new Map<string, number>();
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
    this.priorityOf = options.priorityOf ?? (() => 0);
  }

  add(key: string): void {
    if (this.shuttingDown) return;
    if (this.dirty.has(key)) {
      this.raise(key);
      return;
    }
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
    const key = this.takeNext();
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
    return this.waitingPriority.size;
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
    this.waiting.clear();
    this.waitingPriority.clear();
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
    this.putWaiting(key, this.priorityOf(key));
    this.onDepthChange(this.waitingPriority.size);
  }

  /** A waiting key added again: moved to a higher bucket when its priority rose meanwhile. */
  private raise(key: string): void {
    const current = this.waitingPriority.get(key);
    if (current === undefined) return; // processing: done() re-enqueues it with a fresh priority
    const priority = this.priorityOf(key);
    if (priority <= current) return;
    this.waiting.get(current)?.delete(key);
    this.putWaiting(key, priority);
  }

  private putWaiting(key: string, priority: number): void {
    let bucket = this.waiting.get(priority);
    if (!bucket) {
      bucket = new Set();
      this.waiting.set(priority, bucket);
    }
    bucket.add(key);
    this.waitingPriority.set(key, priority);
  }

  /** The oldest key of the highest non-empty priority. */
  private takeNext(): string | undefined {
    let best: number | undefined;
    for (const [priority, bucket] of this.waiting) {
      if (bucket.size === 0) this.waiting.delete(priority);
      else if (best === undefined || priority > best) best = priority;
    }
    if (best === undefined) return undefined;
    const bucket = this.waiting.get(best);
    const key = bucket?.values().next().value;
    if (key === undefined) return undefined;
    bucket?.delete(key);
    this.waitingPriority.delete(key);
    return key;
  }

  private handOut(key: string): string {
    this.processing.add(key);
    this.dirty.delete(key);
    this.onDepthChange(this.waitingPriority.size);
    return key;
  }
}
