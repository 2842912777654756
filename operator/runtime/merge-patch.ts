import * as k8s from '@kubernetes/client-node';

/**
 * JSON comparison as the wire sees it (the status writer skips a write when nothing changed), and the
 * header that makes a client-node patch an RFC 7386 merge patch (finalizers and Events use them; status
 * does not: in a merge patch `null` means "delete", and results keep nulls).
 */
export type Json = string | number | boolean | null | Json[] | { [key: string]: Json };

export const mergePatchOptions = (): ReturnType<typeof k8s.setHeaderOptions> =>
  k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch);

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Date);
}

/** JSON round-trip view of a value: drops undefined, turns Dates into strings, like the wire would. */
function toJson(value: unknown): Json {
  return JSON.parse(JSON.stringify(value ?? null)) as Json;
}

export function jsonEqual(a: unknown, b: unknown): boolean {
  return stableStringify(toJson(a)) === stableStringify(toJson(b));
}

function stableStringify(value: Json): string {
  if (Array.isArray(value)) return `[${value.map(stableStringify).join(',')}]`;
  if (isPlainObject(value)) {
    const keys = Object.keys(value).sort();
    return `{${keys.map((key) => `${JSON.stringify(key)}:${stableStringify(value[key] as Json)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}
