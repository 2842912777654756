/**
 * A counting semaphore. OpenSSH refuses the 11th session channel on one connection (MaxSessions 10), so
 * every session channel (exec, sftp) holds a permit for its whole life.
 */
export class Semaphore {
  private available: number;
  private readonly waiters: Array<() => void> = [];
  private peakInUse = 0;

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1)
      throw new Error(`semaphore capacity must be ≥ 1, got ${capacity}`);
    this.available = capacity;
  }

  get inUse(): number {
    return this.capacity - this.available;
  }

  get waiting(): number {
    return this.waiters.length;
  }

  /** The highest number of permits held at once since creation: tests assert it stayed below the limit. */
  get peak(): number {
    return this.peakInUse;
  }

  async acquire(): Promise<() => void> {
    if (this.available > 0) {
      this.available -= 1;
    } else {
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
    this.peakInUse = Math.max(this.peakInUse, this.inUse);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.waiters.shift();
      // Hand the permit straight to the next waiter so a newcomer cannot overtake it.
      if (next) next();
      else this.available += 1;
    };
  }

  async with<T>(work: () => Promise<T>): Promise<T> {
    const release = await this.acquire();
    try {
      return await work();
    } finally {
      release();
    }
  }
}
