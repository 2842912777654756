import type * as k8s from '@kubernetes/client-node';
import type { Logger } from 'pino';
import type { BackoffOptions } from './backoff.js';
import { type Clock, systemClock } from './clock.js';
import { Controller } from './controller.js';
import { EventRecorder } from './events.js';
import { FinalizerHelper } from './finalizers.js';
import { type Endpoint, HealthServer, MetricsServer } from './http-servers.js';
import { ResilientInformer, type ResourceRef, resourceName } from './informer.js';
import { type LeaderElectionTimings, LeaderElector } from './leader-election.js';
import type { OperatorMetrics } from './metrics.js';
import { keyOf, type Reconciler } from './reconciler.js';
import { StatusWriter } from './status-writer.js';

/**
 * Owns everything a controller needs and the order things start and stop in:
 * start: HTTP servers → informers (caches fill even on standby replicas, for a fast failover) →
 *        leader election → controllers' workers (only while leading);
 * stop:  controllers drain → Lease released → informers → HTTP servers.
 * Controllers register through `addController` before `start`; the runtime imports no controller.
 */
export interface ManagerOptions {
  kubeConfig: k8s.KubeConfig;
  /** Empty: all namespaces. */
  namespaces: readonly string[];
  logger: Logger;
  metrics: OperatorMetrics;
  clock?: Clock;
  concurrency?: number;
  backoff?: BackoffOptions;
  metricsBind?: Endpoint;
  healthBind?: Endpoint;
  leaderElection?: { namespace: string; name: string; identity?: string } & Partial<LeaderElectionTimings>;
  informer?: { relistIntervalMs?: number; watchIdleTimeoutMs?: number };
  /** Called when leadership is lost; main exits the process. */
  onLostLeadership?: () => void;
}

export interface WatchSpec<T extends k8s.KubernetesObject> {
  resource: ResourceRef;
  /** Which keys of the controller's own kind to reconcile when this object changes. */
  map: (object: T) => string[];
}

export interface ControllerRegistration<T extends k8s.KubernetesObject> {
  name: string;
  /** The kind this controller reconciles: each change enqueues the object's own key. */
  forResource: ResourceRef;
  reconciler: Reconciler;
  /** Skip enqueueing some updates (for example status-only ones); deletes and adds always enqueue. */
  updatePredicate?: (object: T) => boolean;
  watches?: WatchSpec<k8s.KubernetesObject>[];
  concurrency?: number;
  /**
   * Which waiting keys go first (higher first, default 0): the keys doing work ahead of a backlog of keys
   * that only wait. Asked whenever a key starts to wait.
   */
  priorityOf?: (key: string) => number;
}

export class Manager {
  readonly kubeConfig: k8s.KubeConfig;
  readonly logger: Logger;
  readonly metrics: OperatorMetrics;
  readonly clock: Clock;
  private readonly options: ManagerOptions;
  private readonly informers = new Map<string, ResilientInformer<k8s.KubernetesObject>>();
  private readonly controllers: Controller[] = [];
  private readonly health = new HealthServer();
  private readonly metricsServer: MetricsServer;
  private elector: LeaderElector | undefined;
  private started = false;
  private stopping: Promise<void> | undefined;
  readonly boundEndpoints: { metrics?: Endpoint; health?: Endpoint } = {};

  constructor(options: ManagerOptions) {
    this.options = options;
    this.kubeConfig = options.kubeConfig;
    this.logger = options.logger;
    this.metrics = options.metrics;
    this.clock = options.clock ?? systemClock;
    this.metricsServer = new MetricsServer(this.metrics, this.logger);
    this.health.addLivenessCheck('ping', () => undefined);
    this.health.addLivenessCheck('leader-election', () =>
      this.elector?.getState() === 'lost' ? 'lost the lease' : undefined,
    );
    this.health.addReadinessCheck('informers', () => {
      const waiting = [...this.informers.entries()].filter(([, informer]) => !informer.hasSynced());
      return waiting.length === 0 ? undefined : `not synced: ${waiting.map(([name]) => name).join(', ')}`;
    });
    this.health.addReadinessCheck('leader-election', () => {
      if (!this.elector) return undefined;
      return this.elector.isHealthy()
        ? undefined
        : `elector ${this.elector.getState()} and not hearing the apiserver`;
    });
  }

  /** One shared cache per resource, over the manager's namespaces. */
  informer<T extends k8s.KubernetesObject>(resource: ResourceRef): ResilientInformer<T> {
    const name = resourceName(resource);
    let informer = this.informers.get(name);
    if (!informer) {
      informer = new ResilientInformer<k8s.KubernetesObject>({
        kubeConfig: this.kubeConfig,
        resource,
        namespaces: this.options.namespaces,
        logger: this.logger,
        metrics: this.metrics,
        clock: this.clock,
        ...this.options.informer,
      });
      this.informers.set(name, informer);
      if (this.started) void informer.start();
    }
    return informer as unknown as ResilientInformer<T>;
  }

  addController<T extends k8s.KubernetesObject>(registration: ControllerRegistration<T>): Controller {
    const controller = new Controller({
      name: registration.name,
      reconciler: registration.reconciler,
      logger: this.logger,
      metrics: this.metrics,
      clock: this.clock,
      concurrency: registration.concurrency ?? this.options.concurrency ?? 4,
      ...(this.options.backoff ? { backoff: this.options.backoff } : {}),
      ...(registration.priorityOf ? { priorityOf: registration.priorityOf } : {}),
    });
    const enqueueSelf = (object: T): void => controller.enqueue(keyOf(object));
    this.informer<T>(registration.forResource).addEventHandler({
      onAdd: enqueueSelf,
      onUpdate: (object) => {
        if (!registration.updatePredicate || registration.updatePredicate(object)) enqueueSelf(object);
      },
      onDelete: enqueueSelf,
    });
    for (const watch of registration.watches ?? []) {
      const enqueueMapped = (object: k8s.KubernetesObject): void => {
        for (const key of watch.map(object)) controller.enqueue(key);
      };
      this.informer(watch.resource).addEventHandler({
        onAdd: enqueueMapped,
        onUpdate: enqueueMapped,
        onDelete: enqueueMapped,
      });
    }
    this.controllers.push(controller);
    return controller;
  }

  eventRecorder(component = 'inference-benchmark-operator'): EventRecorder {
    return new EventRecorder(this.kubeConfig, component, this.logger, {
      clock: this.clock,
      ...(this.elector ? { instance: this.elector.identity } : {}),
    });
  }

  statusWriter(resource: ResourceRef): StatusWriter {
    return new StatusWriter(this.kubeConfig, resource, this.metrics);
  }

  finalizers(resource: ResourceRef, finalizer: string): FinalizerHelper {
    return new FinalizerHelper(this.kubeConfig, resource, finalizer);
  }

  isLeader(): boolean {
    return this.elector ? this.elector.isLeader() : this.started;
  }

  /** May a side effect on a cluster start now? Without leader election: once started. */
  mayAct(): boolean {
    return this.elector ? this.elector.mayAct() : this.started;
  }

  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    if (this.options.metricsBind)
      this.boundEndpoints.metrics = await this.metricsServer.listen(this.options.metricsBind);
    if (this.options.healthBind)
      this.boundEndpoints.health = await this.health.listen(this.options.healthBind);
    this.logger.info({ ...this.boundEndpoints, namespaces: this.options.namespaces }, 'manager starting');
    // Informers start in the background: a slow or failing apiserver shows in /readyz, not as a hang here.
    for (const informer of this.informers.values()) void informer.start();
    const election = this.options.leaderElection;
    if (!election) {
      this.startControllers();
      return;
    }
    this.elector = new LeaderElector({
      kubeConfig: this.kubeConfig,
      ...election,
      logger: this.logger,
      metrics: this.metrics,
      clock: this.clock,
      onStartedLeading: () => this.startControllers(),
      onStoppedLeading: () => {
        this.logger.error('leadership lost: stopping so a clean replica takes over');
        this.options.onLostLeadership?.();
      },
    });
    this.elector.start();
  }

  /** Graceful shutdown: in-flight reconciles finish, the Lease is released, then everything closes. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      this.logger.info('manager stopping');
      await Promise.all(this.controllers.map((controller) => controller.stop()));
      await this.elector?.stop();
      await Promise.all([...this.informers.values()].map((informer) => informer.stop()));
      await Promise.all([this.metricsServer.close(), this.health.close()]);
      this.logger.info('manager stopped');
    })();
    return this.stopping;
  }

  private startControllers(): void {
    for (const controller of this.controllers) controller.start();
  }
}
