/**
 * Status numbers keep 3 decimals (microseconds for the *Ms fields): `kubectl get` prints number columns at full
 * precision, and 14.452010864985795 tok/s helps nobody. The full-precision summary stays in the run's files.
 */
export function roundNumbers<T>(value: T): T {
  if (typeof value === 'number')
    return (Number.isFinite(value) ? Math.round(value * 1000) / 1000 : value) as T;
  if (Array.isArray(value)) return value.map((item) => roundNumbers(item)) as T;
  if (value !== null && typeof value === 'object')
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, roundNumbers(item)])) as T;
  return value;
}
