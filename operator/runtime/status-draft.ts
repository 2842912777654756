import { type Condition, type ConditionStatus, setCondition } from './conditions.js';

/** A condition that changed in this reconcile: the controller emits an Event for it after the write. */
export interface ConditionTransition {
  type: string;
  status: ConditionStatus;
  reason: string;
  message: string;
  /** The status itself flipped (not only the reason). */
  flipped: boolean;
}

export interface StatusWithConditions {
  conditions?: Condition[];
  observedGeneration?: number;
}

/** metav1.Condition allows 32768 characters of message; a log tail must never make the write fail. */
const MAX_MESSAGE = 32_000;

/**
 * The status a reconcile is computing ("compute, compare, write once"): a deep copy of what the cache
 * holds, stamped with the generation it was computed for, changed by the reconcile, then compared and
 * written once. It records which conditions moved, so Events follow only a write that succeeded.
 */
export class StatusDraft<S extends StatusWithConditions> {
  readonly status: S;
  readonly transitions: ConditionTransition[] = [];

  constructor(
    current: S | undefined,
    protected readonly generation: number,
    protected readonly now: () => number,
  ) {
    this.status = structuredClone(current ?? ({} as S));
    this.status.observedGeneration = generation;
  }

  /** Upserts a condition (meta.SetStatusCondition semantics) and records it when its status or reason moved. */
  set(type: string, status: ConditionStatus, reason: string, message: string): void {
    const before = this.status.conditions?.find((c) => c.type === type);
    const result = setCondition(
      this.status.conditions,
      { type, status, reason, message: message.slice(0, MAX_MESSAGE), observedGeneration: this.generation },
      this.now(),
    );
    this.status.conditions = result.conditions;
    const reasonMoved = before !== undefined && before.reason !== reason;
    if (result.transitioned || reasonMoved)
      this.transitions.push({ type, status, reason, message, flipped: result.transitioned });
  }
}
