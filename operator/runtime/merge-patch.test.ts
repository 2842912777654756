import { describe, expect, it } from 'vitest';
import { jsonEqual } from './merge-patch.js';

describe('jsonEqual', () => {
  it('should call objects equal regardless of key order', () => {
    expect(jsonEqual({ a: 1, b: 2 }, { b: 2, a: 1 })).toBe(true);
    expect(jsonEqual({ a: 1 }, { a: 2 })).toBe(false);
  });
});
