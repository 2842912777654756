import * as k8s from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { KeyedBackoff } from './backoff.js';
import { type Clock, systemClock, type TimerHandle } from './clock.js';
import type { OperatorMetrics } from './metrics.js';

/**
 * A cache of one resource kind over client-node 1.4's `makeInformer`/ListWatch, made to survive what that
 * informer does not (notes/LIBRARIES.md):
 * - on any error but 410 it emits `error` and stops for good: we restart it with per-namespace backoff;
 * - its 30 s watch timeout is dead code, so a half-open connection hangs silently: a watchdog restarts a
 *   watch that saw no activity for `watchIdleTimeoutMs`, and a periodic relist every `relistIntervalMs`
 *   replaces the cache wholesale.
 * A restart builds a fresh ListWatch, lists, and then swaps it in: objects missing from the new list are
 * reported as deleted, objects present in both as updated (a resync, so every key is reconciled again).
 */
export interface ResourceRef {
  /** '' for the core group. */
  group: string;
  version: string;
  plural: string;
  kind: string;
}

export function apiVersionOf(resource: ResourceRef): string {
  return resource.group === '' ? resource.version : `${resource.group}/${resource.version}`;
}

export function resourceName(resource: ResourceRef): string {
  return resource.group === '' ? resource.plural : `${resource.plural}.${resource.group}`;
}

export function watchPath(resource: ResourceRef, namespace: string | undefined): string {
  const prefix =
    resource.group === '' ? `/api/${resource.version}` : `/apis/${resource.group}/${resource.version}`;
  return namespace === undefined
    ? `${prefix}/${resource.plural}`
    : `${prefix}/namespaces/${encodeURIComponent(namespace)}/${resource.plural}`;
}

export interface EventHandler<T> {
  onAdd?(object: T): void;
  onUpdate?(object: T): void;
  onDelete?(object: T): void;
}

export interface InformerOptions {
  kubeConfig: k8s.KubeConfig;
  resource: ResourceRef;
  /** Namespaces to watch; empty means all namespaces (one cluster-wide watch). */
  namespaces?: readonly string[];
  labelSelector?: string;
  logger: Logger;
  metrics?: OperatorMetrics;
  clock?: Clock;
  relistIntervalMs?: number;
  watchIdleTimeoutMs?: number;
  restartBaseDelayMs?: number;
  restartMaxDelayMs?: number;
}

type RestartCause = 'error' | 'watchdog' | 'relist';

interface Generation<T extends k8s.KubernetesObject> {
  listWatch: k8s.Informer<T> & k8s.ObjectCache<T>;
  retired: boolean;
  failed: boolean;
}

interface Shard<T extends k8s.KubernetesObject> {
  namespace: string | undefined;
  current: Generation<T> | undefined;
  synced: boolean;
  lastActivityMs: number;
  restartTimer: TimerHandle | undefined;
  restarting: boolean;
}

export class ResilientInformer<T extends k8s.KubernetesObject> {
  private readonly options: InformerOptions;
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly objectApi: k8s.KubernetesObjectApi;
  private readonly shards: Shard<T>[];
  private readonly handlers: EventHandler<T>[] = [];
  private readonly restartBackoff: KeyedBackoff;
  private readonly relistIntervalMs: number;
  private readonly watchIdleTimeoutMs: number;
  private watchdogTimer: TimerHandle | undefined;
  private relistTimer: TimerHandle | undefined;
  private stopped = true;

  constructor(options: InformerOptions) {
    this.options = options;
    this.clock = options.clock ?? systemClock;
    this.log = options.logger.child({ informer: resourceName(options.resource) });
    this.objectApi = k8s.KubernetesObjectApi.makeApiClient(options.kubeConfig);
    this.relistIntervalMs = options.relistIntervalMs ?? 10 * 60_000;
    this.watchIdleTimeoutMs = options.watchIdleTimeoutMs ?? 5 * 60_000;
    this.restartBackoff = new KeyedBackoff({
      baseDelayMs: options.restartBaseDelayMs ?? 1_000,
      maxDelayMs: options.restartMaxDelayMs ?? 60_000,
      jitter: 0.2,
    });
    const namespaces = options.namespaces?.length ? [...new Set(options.namespaces)] : [undefined];
    this.shards = namespaces.map((namespace) => ({
      namespace,
      current: undefined,
      synced: false,
      lastActivityMs: 0,
      restartTimer: undefined,
      restarting: false,
    }));
  }

  get resource(): ResourceRef {
    return this.options.resource;
  }

  addEventHandler(handler: EventHandler<T>): void {
    this.handlers.push(handler);
  }

  /** Starts every namespace's list+watch; resolves when each has listed once (or keeps retrying). */
  async start(): Promise<void> {
    if (!this.stopped) return;
    this.stopped = false;
    await Promise.all(this.shards.map((shard) => this.restart(shard, undefined)));
    this.scheduleWatchdog();
    this.scheduleRelist();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.watchdogTimer?.cancel();
    this.relistTimer?.cancel();
    for (const shard of this.shards) {
      shard.restartTimer?.cancel();
      const generation = shard.current;
      if (generation) {
        generation.retired = true;
        await generation.listWatch.stop();
      }
    }
  }

  /** True once every namespace has been listed at least once. */
  hasSynced(): boolean {
    return this.shards.every((shard) => shard.synced);
  }

  /** Waits until synced, polling; false on timeout. */
  async waitForSync(timeoutMs: number, pollMs = 100): Promise<boolean> {
    const deadline = this.clock.now() + timeoutMs;
    while (!this.hasSynced()) {
      if (this.clock.now() >= deadline || this.stopped) return false;
      await new Promise<void>((resolve) => this.clock.setTimer(pollMs, resolve));
    }
    return true;
  }

  get(namespace: string, name: string): T | undefined {
    const shard = this.shardFor(namespace);
    return shard?.current?.listWatch.get(name, namespace);
  }

  list(namespace?: string): T[] {
    if (namespace !== undefined) {
      const shard = this.shardFor(namespace);
      return shard?.current ? [...shard.current.listWatch.list(namespace)] : [];
    }
    return this.shards.flatMap((shard) => (shard.current ? [...shard.current.listWatch.list()] : []));
  }

  private shardFor(namespace: string): Shard<T> | undefined {
    return this.shards.find((shard) => shard.namespace === undefined || shard.namespace === namespace);
  }

  private async restart(shard: Shard<T>, cause: RestartCause | undefined): Promise<void> {
    if (this.stopped || shard.restarting) return;
    shard.restarting = true;
    shard.restartTimer?.cancel();
    shard.restartTimer = undefined;
    if (cause) {
      this.options.metrics?.informerRestarts.inc({ resource: resourceName(this.options.resource), cause });
      this.log.info({ namespace: shard.namespace ?? '*', cause }, 'restarting list+watch');
    }
    try {
      const ok = await this.listAndSwap(shard);
      if (ok) {
        this.restartBackoff.forget(shardKey(shard));
      } else {
        this.scheduleRestart(shard);
      }
    } finally {
      shard.restarting = false;
    }
  }

  private scheduleRestart(shard: Shard<T>): void {
    if (this.stopped || shard.restartTimer) return;
    const delayMs = this.restartBackoff.next(shardKey(shard));
    this.log.warn({ namespace: shard.namespace ?? '*', retryInMs: delayMs }, 'list+watch failed; retrying');
    shard.restartTimer = this.clock.setTimer(delayMs, () => {
      shard.restartTimer = undefined;
      void this.restart(shard, 'error');
    });
  }

  /** Builds a new ListWatch, lists, and replaces the shard's cache with it, emitting the differences. */
  private async listAndSwap(shard: Shard<T>): Promise<boolean> {
    const previous = shard.current;
    const { resource, kubeConfig, labelSelector } = this.options;
    const apiVersion = apiVersionOf(resource);
    const listFn = async (): Promise<k8s.KubernetesListObject<T>> => {
      const list = await this.objectApi.list<T>(
        apiVersion,
        resource.kind,
        shard.namespace,
        undefined,
        undefined,
        undefined,
        undefined,
        labelSelector,
      );
      // Lists leave apiVersion/kind off their items; set them so handlers see whole objects.
      for (const item of list.items) {
        item.apiVersion ??= apiVersion;
        item.kind ??= resource.kind;
      }
      return list;
    };
    const listWatch = k8s.makeInformer<T>(
      kubeConfig,
      watchPath(resource, shard.namespace),
      listFn,
      labelSelector,
    );
    const generation: Generation<T> = { listWatch, retired: false, failed: false };
    let syncing = true;
    const seen = new Set<string>();
    // Events of the initial list are held until the new cache is in place: a handler that enqueues a key
    // must find the object when the reconcile reads the cache (controller-runtime waits for sync likewise).
    const heldDuringSync: Array<[keyof EventHandler<T>, T]> = [];
    const live = (): boolean => !generation.retired && !this.stopped;

    listWatch.on('add', (object) => {
      if (!live()) return;
      shard.lastActivityMs = this.clock.now();
      if (syncing) {
        seen.add(objectCacheKey(object));
        const known = previous?.listWatch.get(object.metadata?.name ?? '', object.metadata?.namespace);
        heldDuringSync.push([known ? 'onUpdate' : 'onAdd', object]);
      } else {
        this.emit('onAdd', object);
      }
    });
    listWatch.on('update', (object) => {
      if (!live()) return;
      shard.lastActivityMs = this.clock.now();
      this.emit('onUpdate', object);
    });
    listWatch.on('delete', (object) => {
      if (!live()) return;
      shard.lastActivityMs = this.clock.now();
      this.emit('onDelete', object);
    });
    listWatch.on('connect', () => {
      if (live()) shard.lastActivityMs = this.clock.now();
    });
    listWatch.on('error', (error) => {
      if (!live()) return; // our own stop() aborts the request, which reports an AbortError: not news
      generation.failed = true;
      if (syncing) return; // listAndSwap reports it
      this.log.warn(
        { namespace: shard.namespace ?? '*', err: describeError(error) },
        'watch stopped with an error',
      );
      generation.retired = true;
      this.scheduleRestart(shard);
    });

    await listWatch.start();
    syncing = false;
    if (generation.failed || this.stopped) {
      generation.retired = true;
      await listWatch.stop();
      return false;
    }
    if (previous) {
      for (const old of previous.listWatch.list()) {
        if (!seen.has(objectCacheKey(old))) heldDuringSync.push(['onDelete', old]);
      }
      previous.retired = true;
      await previous.listWatch.stop();
    }
    shard.current = generation;
    shard.synced = true;
    shard.lastActivityMs = this.clock.now();
    for (const [kind, object] of heldDuringSync) this.emit(kind, object);
    return true;
  }

  private emit(kind: keyof EventHandler<T>, object: T): void {
    for (const handler of this.handlers) {
      try {
        handler[kind]?.(object);
      } catch (error) {
        this.log.error({ err: describeError(error) }, 'event handler threw');
      }
    }
  }

  private scheduleWatchdog(): void {
    if (this.stopped) return;
    const checkEveryMs = Math.max(50, Math.floor(this.watchIdleTimeoutMs / 4));
    this.watchdogTimer = this.clock.setTimer(checkEveryMs, () => {
      const now = this.clock.now();
      for (const shard of this.shards) {
        if (shard.current && !shard.restarting && now - shard.lastActivityMs > this.watchIdleTimeoutMs) {
          void this.restart(shard, 'watchdog');
        }
      }
      this.scheduleWatchdog();
    });
  }

  private scheduleRelist(): void {
    if (this.stopped) return;
    this.relistTimer = this.clock.setTimer(this.relistIntervalMs, () => {
      for (const shard of this.shards) void this.restart(shard, 'relist');
      this.scheduleRelist();
    });
  }
}

function shardKey(shard: { namespace: string | undefined }): string {
  return shard.namespace ?? '*';
}

function objectCacheKey(object: k8s.KubernetesObject): string {
  return `${object.metadata?.namespace ?? ''}/${object.metadata?.name ?? ''}`;
}

function describeError(error: unknown): string {
  if (error instanceof Error) return error.message;
  return String(error);
}
