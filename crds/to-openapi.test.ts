import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { type SchemaNode, toRootSchema, toStructuralSchema, UnsupportedSchemaError } from './to-openapi.js';

describe('zod to structural schema', () => {
  it('drops additionalProperties beside properties, as the apiserver requires', () => {
    const schema = toStructuralSchema(z.strictObject({ a: z.string() }));
    expect(schema).toEqual({ type: 'object', required: ['a'], properties: { a: { type: 'string' } } });
  });

  it('keeps additionalProperties for maps', () => {
    expect(toStructuralSchema(z.record(z.string(), z.number()))).toEqual({
      type: 'object',
      additionalProperties: { type: 'number' },
    });
  });

  it('drops the safe-integer bounds of .int() but keeps real ones', () => {
    expect(toStructuralSchema(z.number().int())).toEqual({ type: 'integer' });
    expect(toStructuralSchema(z.number().int().min(1).max(5))).toEqual({
      type: 'integer',
      minimum: 1,
      maximum: 5,
    });
  });

  it('keeps the format of a date-time and drops the regex zod adds beside it', () => {
    expect(toStructuralSchema(z.iso.datetime())).toEqual({ type: 'string', format: 'date-time' });
  });

  it('turns an unknown value into an object that keeps unknown fields', () => {
    expect(toStructuralSchema(z.object({ x: z.unknown() })).properties).toEqual({
      x: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true },
    });
  });

  it('turns integer|string into int-or-string', () => {
    expect(toStructuralSchema(z.union([z.number().int(), z.string()]))).toEqual({
      'x-kubernetes-int-or-string': true,
    });
  });

  it('refuses other unions, naming the path', () => {
    const schema = z.object({ spec: z.object({ odd: z.union([z.string(), z.boolean()]) }) });
    expect(() => toStructuralSchema(schema)).toThrow(UnsupportedSchemaError);
    expect(() => toStructuralSchema(schema)).toThrow(/root\.spec\.odd/);
  });

  it('inlines a schema used twice instead of emitting $ref', () => {
    const shared = z.object({ n: z.number() });
    const schema = toStructuralSchema(z.object({ a: shared, b: shared }));
    expect(JSON.stringify(schema)).not.toContain('$ref');
  });

  it('refuses a map list without keys', () => {
    const schema = z.array(z.object({ k: z.string() })).meta({ 'x-kubernetes-list-type': 'map' });
    expect(() => toStructuralSchema(schema)).toThrow(/list-map-keys/);
  });

  it('keeps nullable and defaults, and leaves defaulted fields out of required', () => {
    const schema = toStructuralSchema(z.object({ n: z.number().nullable(), d: z.number().default(3) }));
    expect(schema).toEqual({
      type: 'object',
      required: ['n'],
      properties: { n: { type: 'number', nullable: true }, d: { type: 'number', default: 3 } },
    });
  });

  it('strips default and additionalProperties from a root', () => {
    const root: SchemaNode = { type: 'object', default: {}, additionalProperties: false, properties: {} };
    expect(toRootSchema(root)).toEqual({ type: 'object', properties: {} });
  });
});
