import { describe, expect, it } from 'vitest';
import { Semaphore } from './semaphore.js';

describe('Semaphore', () => {
  it('never lets more than its capacity run at once, and runs everything', async () => {
    const semaphore = new Semaphore(3);
    let running = 0;
    let maxRunning = 0;
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        semaphore.with(async () => {
          running += 1;
          maxRunning = Math.max(maxRunning, running);
          await new Promise((resolve) => setImmediate(resolve));
          running -= 1;
          return i;
        }),
      ),
    );
    expect(results).toHaveLength(20);
    expect(maxRunning).toBe(3);
    expect(semaphore.peak).toBe(3);
    expect(semaphore.inUse).toBe(0);
  });

  it('releases the permit when the work throws', async () => {
    const semaphore = new Semaphore(1);
    await expect(semaphore.with(async () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    expect(semaphore.inUse).toBe(0);
  });

  it('ignores a second release of the same permit', async () => {
    const semaphore = new Semaphore(1);
    const release = await semaphore.acquire();
    release();
    release();
    expect(semaphore.inUse).toBe(0);
    await semaphore.acquire();
    expect(semaphore.inUse).toBe(1);
  });

  it('rejects a capacity below one', () => {
    expect(() => new Semaphore(0)).toThrow();
  });
});
