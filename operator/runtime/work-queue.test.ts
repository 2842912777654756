import { describe, expect, it } from 'vitest';
import { FakeClock, flushPromises } from './clock.js';
import { WorkQueue } from './work-queue.js';

const noJitter = { baseDelayMs: 100, maxDelayMs: 1_000, jitter: 0 };

function newQueue(clock = new FakeClock()): { queue: WorkQueue; clock: FakeClock; depths: number[] } {
  const depths: number[] = [];
  const queue = new WorkQueue({ clock, backoff: noJitter, onDepthChange: (depth) => depths.push(depth) });
  return { queue, clock, depths };
}

/** Collects what `get` hands out without blocking: resolves only the keys already waiting. */
async function drainWaiting(queue: WorkQueue): Promise<string[]> {
  const keys: string[] = [];
  while (queue.depth() > 0) {
    const key = await queue.get();
    if (key === undefined) break;
    keys.push(key);
  }
  return keys;
}

describe('WorkQueue', () => {
  const cases: Array<{
    sentence: string;
    run: (queue: WorkQueue, clock: FakeClock) => Promise<unknown>;
    want: unknown;
  }> = [
    {
      sentence: 'should hand out a key added three times only once',
      run: async (queue) => {
        queue.add('ns/a');
        queue.add('ns/a');
        queue.add('ns/a');
        return drainWaiting(queue);
      },
      want: ['ns/a'],
    },
    {
      sentence: 'should keep first-in first-out order between different keys',
      run: async (queue) => {
        for (const key of ['ns/c', 'ns/a', 'ns/b', 'ns/a']) queue.add(key);
        return drainWaiting(queue);
      },
      want: ['ns/c', 'ns/a', 'ns/b'],
    },
    {
      sentence: 'should not hand out a key again while a worker still processes it',
      run: async (queue) => {
        queue.add('ns/a');
        await queue.get();
        queue.add('ns/a');
        return { depth: queue.depth(), processing: queue.processingCount() };
      },
      want: { depth: 0, processing: 1 },
    },
    {
      sentence: 'should hand out a key re-added during processing once more after done',
      run: async (queue) => {
        queue.add('ns/a');
        const first = await queue.get();
        queue.add('ns/a');
        queue.add('ns/a');
        queue.done(first!);
        return drainWaiting(queue);
      },
      want: ['ns/a'],
    },
    {
      sentence: 'should not hand out a key after done when nobody re-added it',
      run: async (queue) => {
        queue.add('ns/a');
        queue.done((await queue.get())!);
        return queue.depth();
      },
      want: 0,
    },
    {
      sentence: 'should delay a key given to addAfter until its time comes',
      run: async (queue, clock) => {
        queue.addAfter('ns/a', 500);
        const before = queue.depth();
        await clock.advance(499);
        const justBefore = queue.depth();
        await clock.advance(1);
        return [before, justBefore, queue.depth()];
      },
      want: [0, 0, 1],
    },
    {
      sentence: 'should keep the earliest due time when addAfter is called twice for a key',
      run: async (queue, clock) => {
        queue.addAfter('ns/a', 1_000);
        queue.addAfter('ns/a', 200);
        queue.addAfter('ns/a', 5_000);
        await clock.advance(200);
        const atEarliest = await drainWaiting(queue);
        await clock.advance(10_000);
        return { atEarliest, later: queue.depth(), delayed: queue.delayedCount() };
      },
      want: { atEarliest: ['ns/a'], later: 0, delayed: 0 },
    },
    {
      sentence: 'should double the backoff of a key on each failure up to the cap',
      run: async (queue) => [1, 2, 3, 4, 5, 6].map(() => queue.addRateLimited('ns/a')),
      want: [100, 200, 400, 800, 1_000, 1_000],
    },
    {
      sentence: 'should restart the backoff at the base delay after forget',
      run: async (queue) => {
        queue.addRateLimited('ns/a');
        queue.addRateLimited('ns/a');
        queue.forget('ns/a');
        return queue.addRateLimited('ns/a');
      },
      want: 100,
    },
    {
      sentence: 'should keep the backoff of one key apart from another key',
      run: async (queue) => {
        queue.addRateLimited('ns/a');
        queue.addRateLimited('ns/a');
        return queue.addRateLimited('ns/b');
      },
      want: 100,
    },
    {
      sentence: 'should resolve waiting getters with undefined on shutdown and refuse new keys',
      run: async (queue) => {
        const waiting = queue.get();
        queue.shutDown();
        queue.add('ns/a');
        return { got: await waiting, depth: queue.depth(), next: await queue.get() };
      },
      want: { got: undefined, depth: 0, next: undefined },
    },
    {
      sentence: 'should drop delayed keys on shutdown so no timer fires afterwards',
      run: async (queue, clock) => {
        queue.addAfter('ns/a', 100);
        queue.shutDown();
        await clock.advance(1_000);
        return { depth: queue.depth(), timers: clock.pendingTimers() };
      },
      want: { depth: 0, timers: 0 },
    },
  ];

  for (const { sentence, run, want } of cases) {
    it(sentence, async () => {
      const { queue, clock } = newQueue();
      expect(await run(queue, clock)).toEqual(want);
    });
  }

  it('should wait for keys in flight before a drained shutdown resolves', async () => {
    const { queue } = newQueue();
    queue.add('ns/a');
    const key = await queue.get();
    let drained = false;
    const drain = queue.shutDownWithDrain().then(() => {
      drained = true;
    });
    await flushPromises();
    expect(drained).toBe(false);
    queue.done(key!);
    await drain;
    expect(drained).toBe(true);
  });

  it('should report the waiting depth on every change for the gauge', async () => {
    const { queue, depths } = newQueue();
    queue.add('ns/a');
    queue.add('ns/b');
    await queue.get();
    expect(depths).toEqual([1, 2, 1]);
  });

  it('should never run one key on two workers even with many workers and many re-adds', async () => {
    const { queue } = newQueue();
    const running = new Set<string>();
    let overlaps = 0;
    let runs = 0;
    const worker = async (): Promise<void> => {
      for (;;) {
        const key = await queue.get();
        if (key === undefined) return;
        if (running.has(key)) overlaps++;
        running.add(key);
        runs++;
        await flushPromises();
        running.delete(key);
        queue.done(key);
      }
    };
    const workers = Array.from({ length: 8 }, worker);
    for (let round = 0; round < 20; round++) {
      for (const key of ['ns/a', 'ns/b', 'ns/c']) queue.add(key);
      await Promise.resolve();
    }
    while (queue.depth() > 0 || queue.processingCount() > 0) await flushPromises();
    queue.shutDown();
    await Promise.all(workers);
    expect(overlaps).toBe(0);
    expect(runs).toBeGreaterThanOrEqual(3);
    expect(runs).toBeLessThanOrEqual(60);
  });

  describe('with priorities', () => {
    function prioritized(priorities: Map<string, number>): WorkQueue {
      return new WorkQueue({
        clock: new FakeClock(),
        backoff: noJitter,
        priorityOf: (key) => priorities.get(key) ?? 0,
      });
    }

    it('should hand out the keys of a higher priority first, first-in first-out within one', async () => {
      const queue = prioritized(
        new Map([
          ['ns/hot-1', 1],
          ['ns/hot-2', 1],
        ]),
      );
      for (const key of ['ns/wait-1', 'ns/hot-1', 'ns/wait-2', 'ns/hot-2']) queue.add(key);
      expect(await drainWaiting(queue)).toEqual(['ns/hot-1', 'ns/hot-2', 'ns/wait-1', 'ns/wait-2']);
    });

    it('should move a waiting key ahead when it is added again with a raised priority', async () => {
      const priorities = new Map<string, number>();
      const queue = prioritized(priorities);
      for (const key of ['ns/a', 'ns/b', 'ns/c']) queue.add(key);
      priorities.set('ns/c', 1);
      queue.add('ns/c');
      expect(queue.depth()).toBe(3);
      expect(await drainWaiting(queue)).toEqual(['ns/c', 'ns/a', 'ns/b']);
    });

    it('should not move a waiting key back when its priority fell', async () => {
      const priorities = new Map([['ns/b', 1]]);
      const queue = prioritized(priorities);
      for (const key of ['ns/a', 'ns/b']) queue.add(key);
      priorities.set('ns/b', 0);
      queue.add('ns/b');
      expect(await drainWaiting(queue)).toEqual(['ns/b', 'ns/a']);
    });

    it('should ask the priority again when a key re-added during processing waits after done', async () => {
      const priorities = new Map<string, number>();
      const queue = prioritized(priorities);
      queue.add('ns/a');
      const key = await queue.get();
      queue.add('ns/b');
      queue.add('ns/a');
      priorities.set('ns/a', 1);
      queue.done(key ?? '');
      expect(await drainWaiting(queue)).toEqual(['ns/a', 'ns/b']);
    });

    it('should hand a delayed key out by the priority it has when it comes due', async () => {
      const priorities = new Map<string, number>();
      const clock = new FakeClock();
      const queue = new WorkQueue({
        clock,
        backoff: noJitter,
        priorityOf: (key) => priorities.get(key) ?? 0,
      });
      queue.add('ns/a');
      queue.addAfter('ns/b', 100);
      priorities.set('ns/b', 2);
      await clock.advance(100);
      expect(await drainWaiting(queue)).toEqual(['ns/b', 'ns/a']);
    });
  });
});
