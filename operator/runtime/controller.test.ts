import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { FakeClock } from './clock.js';
import { Controller } from './controller.js';
import { OperatorMetrics } from './metrics.js';
import { type ObjectKey, type ReconcileResult, TerminalError } from './reconciler.js';

const silent = pino({ level: 'silent' });

type Step = ReconcileResult | undefined | Error;

/** A reconciler that answers each call for a key from a script, and records the calls. */
function scripted(script: Step[]) {
  const calls: ObjectKey[] = [];
  return {
    calls,
    reconciler: {
      async reconcile(key: ObjectKey): Promise<ReconcileResult | undefined> {
        calls.push(key);
        const step = script.shift();
        if (step instanceof Error) throw step;
        return step;
      },
    },
  };
}

async function settle(clock: FakeClock, ms = 0): Promise<void> {
  await clock.advance(ms);
}

async function outcomes(metrics: OperatorMetrics): Promise<Record<string, number>> {
  const result: Record<string, number> = {};
  for (const value of (await metrics.reconcileTotal.get()).values)
    result[String(value.labels.outcome)] = value.value;
  return result;
}

describe('Controller', () => {
  const backoff = { baseDelayMs: 1_000, maxDelayMs: 60_000, jitter: 0 };

  function setup(script: Step[]) {
    const clock = new FakeClock();
    const metrics = new OperatorMetrics({ defaultMetrics: false });
    const { calls, reconciler } = scripted(script);
    const controller = new Controller({
      name: 'test',
      reconciler,
      logger: silent,
      metrics,
      clock,
      backoff,
      concurrency: 2,
    });
    controller.start();
    return { clock, metrics, calls, controller };
  }

  it('should reconcile a key once and not again when it succeeds without requeue', async () => {
    const { clock, metrics, calls, controller } = setup([undefined]);
    controller.enqueue('ns/a');
    await settle(clock, 10 * 60_000);
    expect(calls).toEqual([{ namespace: 'ns', name: 'a' }]);
    expect(await outcomes(metrics)).toEqual({ success: 1 });
    await controller.stop();
  });

  it('should look again after requeueAfter, and not before', async () => {
    const { clock, metrics, calls, controller } = setup([{ requeueAfterMs: 5_000 }, undefined]);
    controller.enqueue('ns/a');
    await settle(clock, 4_999);
    expect(calls).toHaveLength(1);
    await settle(clock, 1);
    expect(calls).toHaveLength(2);
    expect(await outcomes(metrics)).toEqual({ requeue: 1, success: 1 });
    await controller.stop();
  });

  it('should retry a thrown error with a growing backoff and reset it after a success', async () => {
    const { clock, metrics, calls, controller } = setup([
      new Error('ssh down'),
      new Error('ssh down'),
      undefined,
    ]);
    controller.enqueue('ns/a');
    await settle(clock);
    expect(calls).toHaveLength(1);
    await settle(clock, 1_000); // first retry after the base delay
    expect(calls).toHaveLength(2);
    await settle(clock, 1_999); // second retry waits twice as long
    expect(calls).toHaveLength(2);
    await settle(clock, 1);
    expect(calls).toHaveLength(3);
    expect(controller.queue.failuresOf('ns/a')).toBe(0);
    expect(await outcomes(metrics)).toEqual({ error: 2, success: 1 });
    await controller.stop();
  });

  it('should report a terminal error once and never retry it', async () => {
    const { clock, metrics, calls, controller } = setup([
      new TerminalError('InvalidSpec', 'spec.model.name is empty'),
    ]);
    controller.enqueue('ns/a');
    await settle(clock, 60 * 60_000);
    expect(calls).toHaveLength(1);
    expect(await outcomes(metrics)).toEqual({ terminal: 1 });
    const errors = (await metrics.reconcileErrors.get()).values;
    expect(errors).toEqual([
      expect.objectContaining({ labels: { controller: 'test', kind: 'terminal' }, value: 1 }),
    ]);
    await controller.stop();
  });

  it('should let a reconcile in flight finish before stop resolves', async () => {
    const clock = new FakeClock();
    const metrics = new OperatorMetrics({ defaultMetrics: false });
    let release: () => void = () => {};
    let finished = false;
    const controller = new Controller({
      name: 'slow',
      logger: silent,
      metrics,
      clock,
      reconciler: {
        async reconcile(_key, { signal }) {
          await new Promise<void>((resolve) => {
            release = resolve;
          });
          finished = signal.aborted; // it saw the shutdown signal
          return undefined;
        },
      },
    });
    controller.start();
    controller.enqueue('ns/a');
    await clock.advance(0);
    const stopped = controller.stop();
    release();
    await stopped;
    expect(finished).toBe(true);
  });
});
