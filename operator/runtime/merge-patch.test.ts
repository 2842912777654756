import { describe, expect, it } from 'vitest';
import { createMergePatch, jsonEqual } from './merge-patch.js';

describe('createMergePatch', () => {
  const cases: Array<{ sentence: string; before: unknown; after: unknown; want: unknown }> = [
    {
      sentence: 'should return undefined when nothing changed',
      before: { a: 1, b: { c: [1, 2] } },
      after: { b: { c: [1, 2] }, a: 1 },
      want: undefined,
    },
    {
      sentence: 'should carry only the changed leaf',
      before: { a: 1, b: { c: 2, d: 3 } },
      after: { a: 1, b: { c: 2, d: 4 } },
      want: { b: { d: 4 } },
    },
    {
      sentence: 'should write null for a key that disappeared',
      before: { a: 1, b: 2 },
      after: { a: 1 },
      want: { b: null },
    },
    {
      sentence: 'should replace an array whole when one item changed',
      before: {
        l: [
          { t: 'A', s: 'True' },
          { t: 'B', s: 'True' },
        ],
      },
      after: {
        l: [
          { t: 'A', s: 'True' },
          { t: 'B', s: 'False' },
        ],
      },
      want: {
        l: [
          { t: 'A', s: 'True' },
          { t: 'B', s: 'False' },
        ],
      },
    },
    {
      sentence: 'should add a whole new subtree',
      before: {},
      after: { results: { tps: 12.5 } },
      want: { results: { tps: 12.5 } },
    },
    {
      sentence: 'should treat an undefined field like a missing one',
      before: { a: 1 },
      after: { a: 1, b: undefined },
      want: undefined,
    },
    {
      sentence: 'should compare Dates by their wire form',
      before: { t: '2026-01-01T00:00:00.000Z' },
      after: { t: new Date('2026-01-01T00:00:00Z') },
      want: undefined,
    },
  ];
  for (const { sentence, before, after, want } of cases) {
    it(sentence, () => {
      expect(createMergePatch(before, after)).toEqual(want);
    });
  }

  it('should call objects equal regardless of key order', () => {
    expect(jsonEqual({ a: 1, b: 2 }, { b: 2, a: 1 })).toBe(true);
    expect(jsonEqual({ a: 1 }, { a: 2 })).toBe(false);
  });
});
