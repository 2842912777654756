import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import * as k8s from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { type Clock, sleep, systemClock } from './clock.js';
import type { OperatorMetrics } from './metrics.js';
import { keyToString } from './reconciler.js';

/**
 * Lease-based leader election on coordination.k8s.io/v1, after client-go's tools/leaderelection.
 * Optimistic concurrency on the Lease's resourceVersion decides races (409 = someone else wrote first).
 *
 * Fencing: `mayAct()` is true only while the last successful renewal was SENT less than renewDeadline ago.
 * A standby takes over no sooner than leaseDuration after it last saw the record change, which is after
 * that renewal landed; since renewDeadline < leaseDuration, a leader stops acting (sbatch, scancel) at
 * least leaseDuration - renewDeadline before anyone else may start. What the guard cannot stop is a
 * command already under way when the deadline passes; the controllers' SLURM side effects stay idempotent
 * for that (adopt-by-tag before submit). Expiry is judged on the local clock from when we last saw the
 * record change, never from the holder's renewTime, so clock skew between replicas does not matter.
 */
export interface LeaderElectionTimings {
  leaseDurationMs: number;
  renewDeadlineMs: number;
  retryPeriodMs: number;
}

export const DEFAULT_LEADER_ELECTION_TIMINGS: LeaderElectionTimings = {
  leaseDurationMs: 15_000,
  renewDeadlineMs: 10_000,
  retryPeriodMs: 2_000,
};

/** client-go's JitterFactor: retries wait retryPeriod × [1, 1.2). */
export const JITTER_FACTOR = 1.2;

/** Throws with a message that names the broken rule; returns the timings when they are sound. */
export function validateLeaderElectionTimings(timings: LeaderElectionTimings): LeaderElectionTimings {
  const { leaseDurationMs, renewDeadlineMs, retryPeriodMs } = timings;
  for (const [name, value] of Object.entries(timings)) {
    if (!Number.isFinite(value) || value < 1)
      throw new Error(`leader election: ${name} must be ≥ 1 ms, got ${value}`);
  }
  if (leaseDurationMs <= renewDeadlineMs) {
    throw new Error(
      `leader election: leaseDuration (${leaseDurationMs} ms) must be greater than renewDeadline (${renewDeadlineMs} ms)`,
    );
  }
  if (renewDeadlineMs <= JITTER_FACTOR * retryPeriodMs) {
    throw new Error(
      `leader election: renewDeadline (${renewDeadlineMs} ms) must be greater than retryPeriod × ${JITTER_FACTOR} (${JITTER_FACTOR * retryPeriodMs} ms)`,
    );
  }
  return timings;
}

export type ElectorState = 'standby' | 'leading' | 'lost' | 'stopped';

/** The three Lease calls the elector makes (a fake in unit tests). */
export type LeaseApi = Pick<
  k8s.CoordinationV1Api,
  'readNamespacedLease' | 'createNamespacedLease' | 'replaceNamespacedLease'
>;

export interface LeaderElectorOptions extends Partial<LeaderElectionTimings> {
  kubeConfig: k8s.KubeConfig;
  /** Defaults to a CoordinationV1Api of kubeConfig. */
  api?: LeaseApi;
  namespace: string;
  name: string;
  identity?: string;
  /** Give the Lease up on a clean stop, so a successor need not wait leaseDuration. */
  releaseOnStop?: boolean;
  logger: Logger;
  metrics?: OperatorMetrics;
  clock?: Clock;
  random?: () => number;
  onStartedLeading?: () => void;
  /** Called once when leadership is lost (not on a clean stop). The process should exit. */
  onStoppedLeading?: () => void;
  onNewLeader?: (identity: string) => void;
}

interface ObservedRecord {
  holderIdentity: string;
  renewTime: string;
}

export class LeaderElector {
  readonly identity: string;
  private readonly options: LeaderElectorOptions;
  private readonly timings: LeaderElectionTimings;
  private readonly api: LeaseApi;
  private readonly clock: Clock;
  private readonly random: () => number;
  private readonly log: Logger;
  private readonly abort = new AbortController();
  private state: ElectorState = 'standby';
  private observed: ObservedRecord | undefined;
  private observedAtMs = 0;
  private lastApiContactMs = 0;
  /** Local time at which the last successful acquire or renew was sent (before the request). */
  private lastRenewSentAtMs = Number.NEGATIVE_INFINITY;
  private lastLeader = '';
  private running: Promise<void> | undefined;

  constructor(options: LeaderElectorOptions) {
    this.options = options;
    this.timings = validateLeaderElectionTimings({
      leaseDurationMs: options.leaseDurationMs ?? DEFAULT_LEADER_ELECTION_TIMINGS.leaseDurationMs,
      renewDeadlineMs: options.renewDeadlineMs ?? DEFAULT_LEADER_ELECTION_TIMINGS.renewDeadlineMs,
      retryPeriodMs: options.retryPeriodMs ?? DEFAULT_LEADER_ELECTION_TIMINGS.retryPeriodMs,
    });
    this.identity = options.identity ?? `${hostname()}_${randomBytes(4).toString('hex')}`;
    this.api = options.api ?? options.kubeConfig.makeApiClient(k8s.CoordinationV1Api);
    this.clock = options.clock ?? systemClock;
    this.random = options.random ?? Math.random;
    this.log = options.logger.child({
      lease: keyToString(options),
      identity: this.identity,
    });
  }

  getState(): ElectorState {
    return this.state;
  }

  isLeader(): boolean {
    return this.state === 'leading';
  }

  /**
   * Leading AND the last successful renewal was sent less than renewDeadline ago: the only state in which a
   * side effect on the cluster (sbatch, scancel) may start. Checked right before each one.
   */
  mayAct(): boolean {
    return (
      this.state === 'leading' && this.clock.now() - this.lastRenewSentAtMs < this.timings.renewDeadlineMs
    );
  }

  /** Leading, or standing by while the apiserver answers us: what /readyz reports. */
  isHealthy(): boolean {
    if (this.state === 'leading') return true;
    if (this.state !== 'standby') return false;
    return (
      this.clock.now() - this.lastApiContactMs <= this.timings.leaseDurationMs + this.timings.retryPeriodMs
    );
  }

  /** Starts campaigning in the background; the promise of `stop` resolves when the loop is over. */
  start(): void {
    this.running ??= this.run();
  }

  async stop(): Promise<void> {
    this.abort.abort();
    await this.running;
  }

  private async run(): Promise<void> {
    const signal = this.abort.signal;
    this.log.info(this.timings, 'campaigning for the lease');
    while (!signal.aborted && !(await this.tryAcquireOrRenew())) {
      await sleep(this.clock, this.jittered(this.timings.retryPeriodMs), signal);
    }
    if (signal.aborted) {
      this.state = 'stopped';
      return;
    }
    this.becomeLeader();
    const lost = await this.renewUntilLostOrStopped(signal);
    this.options.metrics?.leader.set({ lease: this.options.name }, 0);
    if (lost) {
      this.state = 'lost';
      this.log.error('lost the lease: another replica may be leading now');
      this.options.onStoppedLeading?.();
      return;
    }
    if (this.options.releaseOnStop ?? true) await this.release();
    this.state = 'stopped';
  }

  private becomeLeader(): void {
    this.state = 'leading';
    this.options.metrics?.leader.set({ lease: this.options.name }, 1);
    this.log.info('became leader');
    this.options.onStartedLeading?.();
  }

  /** Renews every retryPeriod; returns true when renewDeadline passed without a successful renewal. */
  private async renewUntilLostOrStopped(signal: AbortSignal): Promise<boolean> {
    while (!signal.aborted) {
      const deadline = this.clock.now() + this.timings.renewDeadlineMs;
      let renewed = false;
      while (!signal.aborted && this.clock.now() < deadline) {
        if (await this.tryAcquireOrRenew(deadline - this.clock.now())) {
          renewed = true;
          break;
        }
        await sleep(
          this.clock,
          Math.min(this.timings.retryPeriodMs, Math.max(0, deadline - this.clock.now())),
          signal,
        );
      }
      if (signal.aborted) return false;
      if (!renewed) return true;
      await sleep(this.clock, this.timings.retryPeriodMs, signal);
    }
    return false;
  }

  /** One round of client-go's tryAcquireOrRenew. Never throws: any failure is "not now". */
  private async tryAcquireOrRenew(timeoutMs = this.timings.renewDeadlineMs): Promise<boolean> {
    const { namespace, name } = this.options;
    const nowMs = this.clock.now();
    try {
      let lease: k8s.V1Lease;
      try {
        lease = await withTimeout(this.api.readNamespacedLease({ name, namespace }), timeoutMs);
      } catch (error) {
        if (apiCode(error) !== 404) throw error;
        this.lastApiContactMs = this.clock.now();
        const created = await withTimeout(
          this.api.createNamespacedLease({
            namespace,
            body: { metadata: { name, namespace }, spec: this.newSpec(nowMs, undefined) },
          }),
          timeoutMs,
        );
        this.observe(created, this.clock.now());
        this.lastRenewSentAtMs = nowMs;
        return true;
      }
      this.lastApiContactMs = this.clock.now();
      this.observe(lease, this.clock.now());
      const holder = lease.spec?.holderIdentity ?? '';
      // The holder's own leaseDurationSeconds counts (replicas may be configured differently).
      const holderLeaseMs = (lease.spec?.leaseDurationSeconds ?? 0) * 1000 || this.timings.leaseDurationMs;
      const expired = this.observedAtMs + holderLeaseMs <= nowMs;
      if (holder !== '' && holder !== this.identity && !expired) return false;
      const replaced = await withTimeout(
        this.api.replaceNamespacedLease({
          name,
          namespace,
          body: { ...lease, spec: this.newSpec(nowMs, lease.spec) },
        }),
        timeoutMs,
      );
      this.observe(replaced, this.clock.now());
      this.lastRenewSentAtMs = nowMs;
      return true;
    } catch (error) {
      const code = apiCode(error);
      if (code === 409) {
        this.lastApiContactMs = this.clock.now();
        this.log.debug('lost a race for the lease (409)');
      } else {
        this.log.warn(
          { err: error instanceof Error ? error.message : String(error), code },
          'lease request failed',
        );
      }
      return false;
    }
  }

  private newSpec(nowMs: number, previous: k8s.V1LeaseSpec | undefined): k8s.V1LeaseSpec {
    const continuing = previous?.holderIdentity === this.identity;
    // V1MicroTime serializes with 6 fractional digits; a plain Date's 3 digits are rejected by the apiserver.
    const now = new k8s.V1MicroTime(nowMs);
    return {
      holderIdentity: this.identity,
      leaseDurationSeconds: Math.ceil(this.timings.leaseDurationMs / 1000),
      acquireTime:
        continuing && previous?.acquireTime ? new k8s.V1MicroTime(toEpochMs(previous.acquireTime)) : now,
      renewTime: now,
      leaseTransitions: continuing
        ? (previous?.leaseTransitions ?? 0)
        : (previous?.leaseTransitions ?? -1) + 1,
    };
  }

  private observe(lease: k8s.V1Lease, atMs: number): void {
    const record: ObservedRecord = {
      holderIdentity: lease.spec?.holderIdentity ?? '',
      renewTime: String(lease.spec?.renewTime ?? ''),
    };
    if (
      !this.observed ||
      this.observed.holderIdentity !== record.holderIdentity ||
      this.observed.renewTime !== record.renewTime
    ) {
      this.observed = record;
      this.observedAtMs = atMs;
    }
    if (record.holderIdentity !== '' && record.holderIdentity !== this.lastLeader) {
      this.lastLeader = record.holderIdentity;
      this.log.info({ leader: record.holderIdentity }, 'observed a new leader');
      this.options.onNewLeader?.(record.holderIdentity);
    }
  }

  /** Empties holderIdentity so a standby can take over at its next retry instead of after leaseDuration. */
  private async release(): Promise<void> {
    const { namespace, name } = this.options;
    try {
      const lease = await withTimeout(
        this.api.readNamespacedLease({ name, namespace }),
        this.timings.renewDeadlineMs,
      );
      if (lease.spec?.holderIdentity !== this.identity) return;
      const now = new k8s.V1MicroTime(this.clock.now());
      await withTimeout(
        this.api.replaceNamespacedLease({
          name,
          namespace,
          body: {
            ...lease,
            spec: { ...lease.spec, holderIdentity: '', leaseDurationSeconds: 1, renewTime: now },
          },
        }),
        this.timings.renewDeadlineMs,
      );
      this.log.info('released the lease');
    } catch (error) {
      this.log.warn(
        { err: error instanceof Error ? error.message : String(error) },
        'could not release the lease',
      );
    }
  }

  private jittered(periodMs: number): number {
    return periodMs * (1 + (JITTER_FACTOR - 1) * this.random());
  }
}

function apiCode(error: unknown): number | undefined {
  const code = (error as { code?: unknown } | undefined)?.code;
  return typeof code === 'number' ? code : undefined;
}

function toEpochMs(time: Date | string): number {
  return time instanceof Date ? time.getTime() : Date.parse(time);
}

/** The client has no per-request timeout; a hung request must not outlive the renew deadline. */
function withTimeout<T>(promise: Promise<T>, timeoutMs: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`request timed out after ${timeoutMs} ms`)),
      Math.max(1, timeoutMs),
    );
    timer.unref();
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}
