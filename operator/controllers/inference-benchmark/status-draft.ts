import {
  BenchmarkConditionType,
  BenchmarkPhase,
  ConditionReason,
  type InferenceBenchmarkStatus,
} from '../../../crds/index.js';
import { type ConditionStatus, toKubeTime } from '../../runtime/conditions.js';
import { type ConditionTransition, StatusDraft } from '../../runtime/status-draft.js';

/**
 * The InferenceBenchmark status a reconcile is computing (the runtime's StatusDraft), with the phase and
 * the benchmark's own rules: Ready echoes the step that decides the benchmark's fate, a failed step fails
 * the run, and a new run drops everything observed about the previous one.
 */
export class BenchmarkStatusDraft extends StatusDraft<InferenceBenchmarkStatus> {
  private readonly initialPhase: string | undefined;

  constructor(current: InferenceBenchmarkStatus | undefined, generation: number, nowMs: number) {
    super(current, generation, () => nowMs);
    this.initialPhase = this.status.phase;
  }

  get phaseChanged(): boolean {
    return this.status.phase !== this.initialPhase;
  }

  /**
   * The transitions worth an Event: a status flip, and a step's reason moving on (JobPending → JobRunning
   * → …, or a False condition turning into a failure); Ready only echoes the steps, so only its flips count.
   */
  eventTransitions(): ConditionTransition[] {
    return this.transitions.filter((t) => t.flipped || t.type !== BenchmarkConditionType.Ready);
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
    this.status.completionTime ??= toKubeTime(this.now());
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
      'admission',
      'stages',
      'saturation',
      'dataset',
      'environment',
    ] as const)
      delete this.status[key];
    // SLOMet judges one run's levels; a new run has not been judged yet.
    this.status.conditions = this.status.conditions?.filter((c) => c.type !== BenchmarkConditionType.SLOMet);
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
