/**
 * Polls until a probe yields a value, or fails at the deadline with the last thing the probe saw. Tests use
 * this instead of fixed sleeps: they go as fast as the system allows and still fail with a useful message.
 */
export interface WaitOptions {
  timeoutMs?: number;
  intervalMs?: number;
}

/**
 * A probe returns the awaited value, or `undefined` to say "not yet"; a thrown error also means "not yet",
 * except a GiveUp, which ends the wait at once (the condition can no longer come true).
 */
export type Probe<T> = () => Promise<T | undefined>;

export class GiveUp extends Error {}

export async function waitFor<T>(what: string, probe: Probe<T>, options: WaitOptions = {}): Promise<T> {
  const timeoutMs = options.timeoutMs ?? 60_000;
  const intervalMs = options.intervalMs ?? 250;
  const deadline = Date.now() + timeoutMs;
  let lastProblem = 'the condition never held';
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (error) {
      if (error instanceof GiveUp) throw error;
      lastProblem = error instanceof Error ? error.message : String(error);
    }
    if (Date.now() >= deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}: ${lastProblem}`);
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
