import { describe, expect, it } from 'vitest';
import type { Condition } from './conditions.js';
import { StatusDraft } from './status-draft.js';

interface Status {
  conditions?: Condition[];
  observedGeneration?: number;
  note?: string;
}

describe('StatusDraft', () => {
  it('works on a copy stamped with the generation, and never changes the status it was given', () => {
    const current: Status = { note: 'x', observedGeneration: 1 };
    const draft = new StatusDraft(current, 3, () => 0);
    draft.set('Ready', 'True', 'Fine', 'ok');
    expect(draft.status.observedGeneration).toBe(3);
    expect(current).toEqual({ note: 'x', observedGeneration: 1 });
  });

  it('records a status flip as flipped, a reason that moves on as not flipped, and nothing for the same reason', () => {
    const draft = new StatusDraft<Status>(undefined, 1, () => Date.parse('2026-01-01T00:00:00Z'));
    draft.set('Ready', 'False', 'JobPending', 'pending');
    draft.set('Ready', 'False', 'JobRunning', 'running');
    draft.set('Ready', 'False', 'JobRunning', 'still running');
    draft.set('Ready', 'True', 'RunSucceeded', 'done');
    expect(draft.transitions.map((t) => [t.reason, t.flipped])).toEqual([
      ['JobPending', true],
      ['JobRunning', false],
      ['RunSucceeded', true],
    ]);
    expect(draft.status.conditions?.[0]).toMatchObject({
      status: 'True',
      observedGeneration: 1,
      lastTransitionTime: '2026-01-01T00:00:00Z',
    });
  });

  it('caps a condition message below what metav1.Condition allows', () => {
    const draft = new StatusDraft<Status>(undefined, 1, () => 0);
    draft.set('Ready', 'False', 'JobFailed', 'x'.repeat(40_000));
    expect(draft.status.conditions?.[0]?.message).toHaveLength(32_000);
  });
});
