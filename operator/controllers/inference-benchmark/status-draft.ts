import {
  BenchmarkConditionType,
  BenchmarkPhase,
  ConditionReason,
  type InferenceBenchmarkStatus,
} from '../../../crds/index.js';
import { type Condition, type ConditionStatus, setCondition, toKubeTime } from '../../runtime/conditions.js';

export interface ConditionTransition {
  type: string;
  status: ConditionStatus;
  reason: string;
  message: string;
}

/**
 * The status a reconcile is computing: a deep copy of what the cache holds, changed by the steps, then
 * compared and written once. It records condition transitions and phase changes so the reconciler can emit
 * Events for them after the write succeeded.
 */
export class StatusDraft {
  readonly status: InferenceBenchmarkStatus;
  readonly transitions: ConditionTransition[] = [];
  private readonly initialPhase: string | undefined;

  constructor(
    current: InferenceBenchmarkStatus | undefined,
    private readonly generation: number,
    private readonly nowMs: number,
  ) {
    this.status = structuredClone(current ?? {});
    this.initialPhase = this.status.phase;
    this.status.observedGeneration = generation;
  }

  get phaseChanged(): boolean {
    return this.status.phase !== this.initialPhase;
  }

  set(type: string, status: ConditionStatus, reason: string, message: string): void {
    const before = (this.status.conditions as Condition[] | undefined)?.find((c) => c.type === type);
    const result = setCondition(
      this.status.conditions as Condition[] | undefined,
      { type, status, reason, message: message.slice(0, 32_000), observedGeneration: this.generation },
      this.nowMs,
    );
    this.status.conditions = result.conditions;
    // An Event when the status flips, and when a step's reason moves on (JobPending → JobRunning → …,
    // or a False condition turning into a failure); Ready only echoes the steps, so only its flips count.
    const reasonMoved = before !== undefined && before.reason !== reason && type !== 'Ready';
    if (result.transitioned || reasonMoved) this.transitions.push({ type, status, reason, message });
  }

  phase(phase: BenchmarkPhase): void {
    this.status.phase = phase;
  }

  /** The summary condition follows the step that currently decides the benchmark's fate. */
  ready(status: ConditionStatus, reason: string, message: string): void {
    this.set(BenchmarkConditionType.Ready, status, reason, message);
  }

  /** A step failed for good: the step's condition, BenchmarkComplete and Ready all say why. */
  fail(stepCondition: string, reason: string, message: string): void {
    this.set(stepCondition, 'False', reason, message);
    if (stepCondition !== BenchmarkConditionType.BenchmarkComplete)
      this.set(BenchmarkConditionType.BenchmarkComplete, 'False', reason, message);
    this.ready('False', reason, message);
    this.phase(BenchmarkPhase.Failed);
    this.status.completionTime ??= toKubeTime(this.nowMs);
  }

  /** A new run: everything observed about the previous generation is dropped. */
  resetForRun(runId: string): void {
    for (const key of [
      'slurmJobs',
      'endpoints',
      'progress',
      'results',
      'startTime',
      'completionTime',
    ] as const)
      delete this.status[key];
    this.status.runId = runId;
    this.status.phase = BenchmarkPhase.Pending;
    for (const type of [
      BenchmarkConditionType.OllamaModelLoaded,
      BenchmarkConditionType.ClientHealthy,
      BenchmarkConditionType.BenchmarkComplete,
    ]) {
      this.set(
        type,
        'False',
        ConditionReason.WaitingForDependencies,
        'waiting for the earlier steps of the run',
      );
    }
  }
}
