import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { StartRunRequest } from '../../client-service/api-schema.js';
import { BenchmarkRun } from '../../client-service/engine/benchmark-run.js';
import { RunPusher } from '../../client-service/engine/run-pusher.js';

/**
 * A client run as a SLURM job would do it: the client service's own run engine and Pushgateway pusher,
 * bundled by esbuild and run with `node` on the cluster. Used by the monitoring integration test until the
 * client-service's HTTP app is bundled; prints the run status (summary included) as JSON on stdout.
 */
const ClientRunConfig = z.object({
  ollamaUrl: z.url(),
  pushgatewayUrl: z.url(),
  run: StartRunRequest,
});

const configFile = process.argv[2];
if (!configFile) throw new Error('usage: client-run.mjs <config.json>');
const config = ClientRunConfig.parse(JSON.parse(readFileSync(configFile, 'utf8')));
const benchmark = config.run.benchmark ?? 'monitoring-test';
const run = new BenchmarkRun(config.run, {
  ollamaUrl: config.ollamaUrl,
  defaultModel: config.run.model ?? '',
  defaultBenchmark: benchmark,
  files: () => null,
  pusher: (r) =>
    new RunPusher({
      url: config.pushgatewayUrl,
      benchmark: r.benchmark,
      runId: r.runId,
      model: r.model,
      intervalMs: 1000,
      timeoutMs: 5000,
      progress: r.progress,
    }),
});
await run.done;
process.stdout.write(`${JSON.stringify(run.status())}\n`);
