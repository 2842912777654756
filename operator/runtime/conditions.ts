/**
 * metav1.Condition helpers with the semantics of apimachinery's meta.SetStatusCondition:
 * upsert by type; `lastTransitionTime` moves only when `status` changes; reason, message and
 * observedGeneration are always written. Pure functions over arrays: they return a new array and never
 * mutate their input, so a reconciler can compare before/after and write status only when it changed.
 */
export type ConditionStatus = 'True' | 'False' | 'Unknown';

export interface Condition {
  type: string;
  status: ConditionStatus;
  reason: string;
  message: string;
  lastTransitionTime: string;
  observedGeneration?: number;
}

export interface ConditionUpdate {
  type: string;
  status: ConditionStatus;
  reason: string;
  message: string;
  observedGeneration?: number;
}

/** metav1.Time: RFC 3339 in UTC with whole seconds, as the apiserver stores it. */
export function toKubeTime(epochMs: number): string {
  return new Date(Math.floor(epochMs / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}

/** metav1.MicroTime: 6 fractional digits (the client's Date serialization gives 3, which the apiserver rejects). */
export function toMicroTime(epochMs: number): string {
  const iso = new Date(epochMs).toISOString(); // 2026-01-01T00:00:00.123Z
  return `${iso.slice(0, -1)}000Z`;
}

export function findCondition(
  conditions: readonly Condition[] | undefined,
  type: string,
): Condition | undefined {
  return conditions?.find((condition) => condition.type === type);
}

export function isConditionTrue(conditions: readonly Condition[] | undefined, type: string): boolean {
  return findCondition(conditions, type)?.status === 'True';
}

/** Returns `conditions` with `update` applied, and whether `status` changed (a transition worth an Event). */
export function setCondition(
  conditions: readonly Condition[] | undefined,
  update: ConditionUpdate,
  nowMs: number,
): { conditions: Condition[]; transitioned: boolean; changed: boolean } {
  const list = [...(conditions ?? [])];
  const index = list.findIndex((condition) => condition.type === update.type);
  const existing = index >= 0 ? list[index] : undefined;
  const transitioned = existing?.status !== update.status;
  const next: Condition = {
    type: update.type,
    status: update.status,
    reason: update.reason,
    message: update.message,
    lastTransitionTime:
      transitioned || !existing?.lastTransitionTime ? toKubeTime(nowMs) : existing.lastTransitionTime,
    ...(update.observedGeneration !== undefined ? { observedGeneration: update.observedGeneration } : {}),
  };
  const changed =
    !existing ||
    transitioned ||
    existing.reason !== next.reason ||
    existing.message !== next.message ||
    existing.observedGeneration !== next.observedGeneration ||
    existing.lastTransitionTime !== next.lastTransitionTime;
  if (index >= 0) list[index] = next;
  else list.push(next);
  return { conditions: list, transitioned, changed };
}

export function removeCondition(conditions: readonly Condition[] | undefined, type: string): Condition[] {
  return (conditions ?? []).filter((condition) => condition.type !== type);
}
