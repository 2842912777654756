import { z } from 'zod';

/**
 * Converts a zod schema into a structural OpenAPI v3 schema the apiserver accepts in a CRD
 * (apiextensions.k8s.io/v1 `openAPIV3Schema`). zod's own openapi-3.0 output is the start; the rules below are
 * the apiserver's (k8s.io/apiextensions-apiserver validation), each learnt from a rejected CRD.
 */

/** A JSON value as it appears in a schema. */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };
export type SchemaNode = { [key: string]: JsonValue };

/** Thrown for zod constructs that have no structural equivalent; the message names the path. */
export class UnsupportedSchemaError extends Error {
  override readonly name = 'UnsupportedSchemaError';
}

/** Bounds zod adds to `.int()` (±2^53 − 1); meaningless for int64 and noise in `kubectl explain`. */
const SAFE_INTEGER_BOUNDS = new Set([Number.MAX_SAFE_INTEGER, Number.MIN_SAFE_INTEGER]);

/** Keys the apiserver refuses anywhere in a structural schema. */
const FORBIDDEN_KEYS = new Set([
  '$schema',
  'id',
  '$id',
  'definitions',
  '$defs',
  'propertyNames',
  'uniqueItems',
]);

/** Output order of keys, so the generated YAML reads naturally and diffs stay small. */
const KEY_ORDER = [
  'description',
  'type',
  'format',
  'nullable',
  'default',
  'enum',
  'minimum',
  'exclusiveMinimum',
  'maximum',
  'exclusiveMaximum',
  'minLength',
  'maxLength',
  'pattern',
  'minItems',
  'maxItems',
  'x-kubernetes-list-type',
  'x-kubernetes-list-map-keys',
  'x-kubernetes-int-or-string',
  'x-kubernetes-preserve-unknown-fields',
  'x-kubernetes-validations',
  'required',
  'properties',
  'additionalProperties',
  'items',
];

function isNode(value: JsonValue | undefined): value is SchemaNode {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function ordered(node: SchemaNode): SchemaNode {
  const result: SchemaNode = {};
  for (const key of KEY_ORDER) {
    const value = node[key];
    if (value !== undefined) result[key] = value;
  }
  for (const key of Object.keys(node).sort()) {
    const value = node[key];
    if (!(key in result) && value !== undefined) result[key] = value;
  }
  return result;
}

function isIntOrString(variants: JsonValue[]): boolean {
  const types = variants.map((v) => (isNode(v) ? v.type : undefined)).sort();
  return types.length === 2 && types[0] === 'integer' && types[1] === 'string';
}

function clean(input: SchemaNode, path: string): SchemaNode {
  const node: SchemaNode = {};
  for (const [key, value] of Object.entries(input)) {
    if (FORBIDDEN_KEYS.has(key)) continue;
    node[key] = value;
  }
  if ('$ref' in node) {
    throw new UnsupportedSchemaError(`${path}: $ref is not allowed in a CRD schema; inline the schema`);
  }

  for (const unionKey of ['anyOf', 'oneOf'] as const) {
    const variants = node[unionKey];
    if (!Array.isArray(variants)) continue;
    if (!isIntOrString(variants)) {
      throw new UnsupportedSchemaError(
        `${path}: unions other than integer|string have no structural form; use an enum or one object`,
      );
    }
    delete node[unionKey];
    node['x-kubernetes-int-or-string'] = true;
  }
  if ('allOf' in node || 'not' in node) {
    throw new UnsupportedSchemaError(`${path}: allOf/not have no structural form`);
  }

  if (typeof node.minimum === 'number' && SAFE_INTEGER_BOUNDS.has(node.minimum)) delete node.minimum;
  if (typeof node.maximum === 'number' && SAFE_INTEGER_BOUNDS.has(node.maximum)) delete node.maximum;
  // zod adds a regex beside `format: date-time`; the apiserver checks the format itself, and the two
  // together only invite disagreement.
  if (node.format !== undefined) delete node.pattern;

  const properties = node.properties;
  if (isNode(properties)) {
    // `properties` and `additionalProperties` are mutually exclusive in a structural schema; unknown fields are
    // pruned (or refused by kubectl's strict field validation) anyway.
    delete node.additionalProperties;
    const cleaned: SchemaNode = {};
    for (const [name, child] of Object.entries(properties)) {
      if (!isNode(child)) throw new UnsupportedSchemaError(`${path}.${name}: not a schema`);
      cleaned[name] = clean(child, `${path}.${name}`);
    }
    node.properties = cleaned;
    node.type ??= 'object';
  } else if (isNode(node.additionalProperties)) {
    node.additionalProperties = clean(node.additionalProperties, `${path}[*]`);
    node.type ??= 'object';
  } else if (node.additionalProperties === false) {
    delete node.additionalProperties;
  }

  if (isNode(node.items)) node.items = clean(node.items, `${path}[]`);
  else if (node.items !== undefined)
    throw new UnsupportedSchemaError(`${path}: tuple items are not structural`);

  if (node['x-kubernetes-list-type'] === 'map' && !Array.isArray(node['x-kubernetes-list-map-keys'])) {
    throw new UnsupportedSchemaError(`${path}: x-kubernetes-list-type map needs x-kubernetes-list-map-keys`);
  }

  if (node.type === undefined && node['x-kubernetes-int-or-string'] !== true) {
    // `{}` (z.unknown, z.any, z.json): an object the apiserver keeps as it is.
    node.type = 'object';
    node['x-kubernetes-preserve-unknown-fields'] = true;
  }
  return ordered(node);
}

/** The structural schema of `schema`, as the value of one property (defaults allowed). */
export function toStructuralSchema(schema: z.ZodType, path = 'root'): SchemaNode {
  const raw = z.toJSONSchema(schema, {
    target: 'openapi-3.0',
    io: 'input',
    reused: 'inline',
    unrepresentable: 'throw',
  });
  return clean(raw as SchemaNode, path);
}

/** The structural schema of a CRD root: no default and no additionalProperties allowed there. */
export function toRootSchema(root: SchemaNode): SchemaNode {
  const { default: _default, additionalProperties: _additional, ...rest } = root;
  return ordered(rest);
}
