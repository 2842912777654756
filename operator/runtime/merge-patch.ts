/**
 * RFC 7386 JSON merge patch between two JSON values: applying the result to `before` gives `after`.
 * Keys that disappear become `null`; arrays are replaced whole (as the apiserver does for CRDs).
 * Returns `undefined` when nothing changed, which is how the status writer knows to skip the write.
 */
export type Json = string | number | boolean | null | Json[] | { [key: string]: Json };

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Date);
}

/** JSON round-trip view of a value: drops undefined, turns Dates into strings, like the wire would. */
export function toJson(value: unknown): Json {
  return JSON.parse(JSON.stringify(value ?? null)) as Json;
}

export function jsonEqual(a: unknown, b: unknown): boolean {
  return stableStringify(toJson(a)) === stableStringify(toJson(b));
}

export function createMergePatch(before: unknown, after: unknown): Json | undefined {
  return diff(toJson(before), toJson(after));
}

function diff(before: Json, after: Json): Json | undefined {
  if (isPlainObject(before) && isPlainObject(after)) {
    const patch: { [key: string]: Json } = {};
    for (const key of Object.keys(before)) {
      if (!(key in after)) patch[key] = null;
    }
    for (const [key, value] of Object.entries(after)) {
      if (!(key in before)) {
        patch[key] = value;
        continue;
      }
      const child = diff(before[key] as Json, value);
      if (child !== undefined) patch[key] = child;
    }
    return Object.keys(patch).length > 0 ? patch : undefined;
  }
  if (stableStringify(before) === stableStringify(after)) return undefined;
  // null inside `after` cannot be expressed by merge patch (null means delete); callers keep nulls out.
  return after;
}

function stableStringify(value: Json): string {
  if (Array.isArray(value)) return `[${value.map(stableStringify).join(',')}]`;
  if (isPlainObject(value)) {
    const keys = Object.keys(value).sort();
    return `{${keys.map((key) => `${JSON.stringify(key)}:${stableStringify(value[key] as Json)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}
