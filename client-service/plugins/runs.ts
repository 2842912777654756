import { join } from 'node:path';
import type { Config } from '../config.js';
import { RunFiles } from '../engine/run-files.js';
import { RunManager } from '../engine/run-manager.js';
import { RunPusher } from '../engine/run-pusher.js';
import { definePlugin } from './define-plugin.js';

declare module 'fastify' {
  interface FastifyInstance {
    runs: RunManager;
  }
}

/** Pushes must finish well inside the gap between two live pushes. */
const PUSH_TIMEOUT_MS = 3000;

export const runsPlugin = definePlugin<{ config: Config }>(
  'runs',
  ['service-metrics'],
  async (app, { config }) => {
    const manager = new RunManager({
      ollamaUrl: config.ollamaUrl,
      defaultModel: config.model ?? '',
      defaultBenchmark: config.benchmark,
      files: (runId) => new RunFiles(join(config.outputDir, runId)),
      pusher: (run) =>
        new RunPusher({
          url: config.pushgatewayUrl ?? null,
          benchmark: run.benchmark,
          runId: run.runId,
          model: run.model,
          intervalMs: config.pushIntervalSeconds * 1000,
          timeoutMs: Math.min(PUSH_TIMEOUT_MS, config.pushIntervalSeconds * 1000),
          progress: run.progress,
        }),
      onRecord: (m) => app.serviceMetrics.observe(m.record),
    });
    app.decorate('runs', manager);
    // Closing the service cancels runs in flight; each still writes its files and final push.
    app.addHook('onClose', () => manager.shutdown());
  },
);
