import { describe, expect, it } from 'vitest';
import { type Condition, setCondition, toKubeTime, toMicroTime } from './conditions.js';

const t0 = Date.parse('2026-01-01T00:00:00Z');
const later = t0 + 90_000;

const ready: Condition = {
  type: 'Ready',
  status: 'True',
  reason: 'Connected',
  message: 'sinfo answered',
  lastTransitionTime: toKubeTime(t0),
  observedGeneration: 1,
};

describe('setCondition', () => {
  const cases: Array<{
    sentence: string;
    before: Condition[] | undefined;
    update: Parameters<typeof setCondition>[1];
    want: { conditions: Condition[]; transitioned: boolean; changed: boolean };
  }> = [
    {
      sentence: 'should add a condition that is missing, stamped now',
      before: undefined,
      update: {
        type: 'Ready',
        status: 'False',
        reason: 'Connecting',
        message: 'dialing',
        observedGeneration: 1,
      },
      want: {
        conditions: [
          {
            type: 'Ready',
            status: 'False',
            reason: 'Connecting',
            message: 'dialing',
            lastTransitionTime: toKubeTime(later),
            observedGeneration: 1,
          },
        ],
        transitioned: true,
        changed: true,
      },
    },
    {
      sentence: 'should keep lastTransitionTime when only the message changes',
      before: [ready],
      update: {
        type: 'Ready',
        status: 'True',
        reason: 'Connected',
        message: 'sinfo answered again',
        observedGeneration: 1,
      },
      want: {
        conditions: [{ ...ready, message: 'sinfo answered again' }],
        transitioned: false,
        changed: true,
      },
    },
    {
      sentence: 'should move lastTransitionTime when the status changes',
      before: [ready],
      update: {
        type: 'Ready',
        status: 'False',
        reason: 'HostKeyMismatch',
        message: 'fix knownHosts',
        observedGeneration: 1,
      },
      want: {
        conditions: [
          {
            type: 'Ready',
            status: 'False',
            reason: 'HostKeyMismatch',
            message: 'fix knownHosts',
            lastTransitionTime: toKubeTime(later),
            observedGeneration: 1,
          },
        ],
        transitioned: true,
        changed: true,
      },
    },
    {
      sentence: 'should report no change when nothing differs, so status is not written',
      before: [ready],
      update: {
        type: 'Ready',
        status: 'True',
        reason: 'Connected',
        message: 'sinfo answered',
        observedGeneration: 1,
      },
      want: { conditions: [ready], transitioned: false, changed: false },
    },
    {
      sentence: 'should write the new observedGeneration even when the status stays True',
      before: [ready],
      update: {
        type: 'Ready',
        status: 'True',
        reason: 'Connected',
        message: 'sinfo answered',
        observedGeneration: 2,
      },
      want: { conditions: [{ ...ready, observedGeneration: 2 }], transitioned: false, changed: true },
    },
    {
      sentence: 'should leave other condition types where they are',
      before: [{ ...ready, type: 'MonitoringReady' }, ready],
      update: { type: 'Ready', status: 'True', reason: 'Connected', message: 'x', observedGeneration: 1 },
      want: {
        conditions: [
          { ...ready, type: 'MonitoringReady' },
          { ...ready, message: 'x' },
        ],
        transitioned: false,
        changed: true,
      },
    },
  ];
  for (const { sentence, before, update, want } of cases) {
    it(sentence, () => {
      const frozen = before ? structuredClone(before) : undefined;
      expect(setCondition(before, update, later)).toEqual(want);
      expect(before).toEqual(frozen); // input never mutated
    });
  }
});

describe('time formats', () => {
  it('should print metav1.Time with whole seconds', () => {
    expect(toKubeTime(Date.parse('2026-01-01T00:00:00.987Z'))).toBe('2026-01-01T00:00:00Z');
  });
  it('should print MicroTime with six fractional digits', () => {
    expect(toMicroTime(Date.parse('2026-01-01T00:00:00.987Z'))).toBe('2026-01-01T00:00:00.987000Z');
  });
});
