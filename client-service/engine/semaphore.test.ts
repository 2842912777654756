import { describe, expect, it } from 'vitest';
import { Semaphore } from './semaphore.js';

describe('Semaphore', () => {
  it('grants up to its permits, then makes callers wait for a release, in order', async () => {
    const semaphore = new Semaphore(2);
    const signal = new AbortController().signal;
    expect(await semaphore.acquire(signal)).toBe(true);
    expect(await semaphore.acquire(signal)).toBe(true);
    const order: number[] = [];
    const third = semaphore.acquire(signal).then((ok) => order.push(3) && ok);
    const fourth = semaphore.acquire(signal).then((ok) => order.push(4) && ok);
    semaphore.release();
    expect(await third).toBe(true);
    semaphore.release();
    expect(await fourth).toBe(true);
    expect(order).toEqual([3, 4]);
  });

  it('lets every waiter go with false when the run is cancelled', async () => {
    const semaphore = new Semaphore(1);
    const controller = new AbortController();
    await semaphore.acquire(controller.signal);
    const waiting = semaphore.acquire(controller.signal);
    controller.abort();
    expect(await waiting).toBe(false);
    expect(await semaphore.acquire(controller.signal)).toBe(false);
  });
});
