/** A counting semaphore whose waiters can be released all at once by an abort (run cancelled). */
export class Semaphore {
  private available: number;
  private readonly waiters: Array<(acquired: boolean) => void> = [];

  constructor(permits: number) {
    this.available = permits;
  }

  /** Resolves true with a permit, or false when the signal aborted first. */
  acquire(signal: AbortSignal): Promise<boolean> {
    if (signal.aborted) return Promise.resolve(false);
    if (this.available > 0) {
      this.available--;
      return Promise.resolve(true);
    }
    return new Promise((resolve) => {
      const onAbort = (): void => {
        const i = this.waiters.indexOf(grant);
        if (i !== -1) this.waiters.splice(i, 1);
        resolve(false);
      };
      const grant = (acquired: boolean): void => {
        signal.removeEventListener('abort', onAbort);
        resolve(acquired);
      };
      signal.addEventListener('abort', onAbort, { once: true });
      this.waiters.push(grant);
    });
  }

  release(): void {
    const next = this.waiters.shift();
    if (next !== undefined) next(true);
    else this.available++;
  }
}
