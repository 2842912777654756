import { type WaitOptions, waitFor as waitForProbe } from './wait.js';

/**
 * The shared `waitFor` of ./wait.ts with the defaults the apiserver tests want (a local apiserver answers in
 * milliseconds, so poll every 100 ms and give up after 30 s), accepting synchronous probes too.
 */
export function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined> | T | undefined,
  { timeoutMs = 30_000, intervalMs = 100 }: WaitOptions = {},
): Promise<T> {
  return waitForProbe(what, async () => probe(), { timeoutMs, intervalMs });
}
