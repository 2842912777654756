/**
 * The one clock for every duration: CLOCK_MONOTONIC in milliseconds. process.hrtime is system-wide
 * monotonic, so a synthetic server in another process on the same machine can stamp ground truth on the
 * same time axis. As a double it keeps sub-microsecond resolution for ~100 days of uptime.
 */
export function monotonicMs(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}
