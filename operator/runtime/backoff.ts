/**
 * Per-key exponential backoff with jitter, like client-go's ItemExponentialFailureRateLimiter: each
 * failure of a key doubles its delay up to a cap; `forget` resets it after a success. Jitter spreads
 * retries so that many keys failing together (a lost SSH connection) do not retry in lockstep.
 */
export interface BackoffOptions {
  baseDelayMs: number;
  maxDelayMs: number;
  /** Fraction of the delay added at random, 0 ≤ jitter ≤ 1: delay × (1 + jitter × random()). */
  jitter: number;
  random?: () => number;
}

export const DEFAULT_BACKOFF: BackoffOptions = { baseDelayMs: 500, maxDelayMs: 5 * 60_000, jitter: 0.2 };

export function validateBackoff(options: BackoffOptions): void {
  if (!(options.baseDelayMs > 0))
    throw new Error(`backoff baseDelayMs must be > 0, got ${options.baseDelayMs}`);
  if (!(options.maxDelayMs >= options.baseDelayMs)) {
    throw new Error(
      `backoff maxDelayMs (${options.maxDelayMs}) must be ≥ baseDelayMs (${options.baseDelayMs})`,
    );
  }
  if (!(options.jitter >= 0 && options.jitter <= 1)) throw new Error(`backoff jitter must be in [0, 1]`);
}

/** The delay before retry number `failures` (1 = first retry), capped, then jittered. */
export function backoffDelayMs(failures: number, options: BackoffOptions): number {
  const exponent = Math.max(0, failures - 1);
  // 2^exponent overflows to Infinity for huge counts; Math.min keeps the cap.
  const capped = Math.min(options.maxDelayMs, options.baseDelayMs * 2 ** Math.min(exponent, 60));
  const random = options.random ?? Math.random;
  return Math.round(capped * (1 + options.jitter * random()));
}

export class KeyedBackoff {
  private readonly failures = new Map<string, number>();

  constructor(private readonly options: BackoffOptions = DEFAULT_BACKOFF) {
    validateBackoff(options);
  }

  /** Counts one more failure of `key` and returns how long to wait before retrying it. */
  next(key: string): number {
    const count = (this.failures.get(key) ?? 0) + 1;
    this.failures.set(key, count);
    return backoffDelayMs(count, this.options);
  }

  failuresOf(key: string): number {
    return this.failures.get(key) ?? 0;
  }

  forget(key: string): void {
    this.failures.delete(key);
  }
}
