/**
 * Measures Ollama's decode speed for the sandbox model on this machine, with 1 and 4 requests in flight.
 * Prints figures; asserts nothing. Run: npx tsx test/hpc/bench-ollama.ts [rounds] (BENCH_MAX_TOKENS, default 64)
 *
 * decode tokens/s per request = eval_count / eval_duration (Ollama's own counters); aggregate = Σ eval_count /
 * wall time of the round, which is what parallel requests should raise.
 */
import { requireHpc } from '../sandbox/description.js';
import { decodeTokensPerSecond, type GenerateResponse, generate } from '../support/ollama.js';
import { cancelJobs, jobScript, splitHostPort, submitJob, waitForEndpoints } from '../support/slurm.js';
import { openForward } from '../support/ssh.js';

const rounds = Number(process.argv[2] ?? 3);
const maxTokens = Number(process.env.BENCH_MAX_TOKENS ?? 64);
const prompt = 'Write a short story about a lighthouse keeper who finds a message in a bottle.';
const hpc = requireHpc();

function mean(values: number[]): number {
  return values.reduce((a, b) => a + b, 0) / values.length;
}

async function main(): Promise<void> {
  const jobId = await submitJob(hpc.ssh, jobScript('ollama'), [
    '--partition=gpu',
    '--gres=gpu:1',
    '--export=ALL,OLLAMA_NUM_PARALLEL=4',
  ]);
  const forwardClosers: Array<() => Promise<void>> = [];
  try {
    const { host, port } = splitHostPort((await waitForEndpoints(hpc, jobId)).ollama ?? '');
    const forward = await openForward(hpc.ssh, host, port);
    forwardClosers.push(forward.close);
    await generate(forward.url, { model: hpc.ollama.model, prompt, maxTokens: 8 }); // loads the model

    console.log(
      `model ${hpc.ollama.model}, job ${jobId}, ${maxTokens} max tokens, ${rounds} rounds per level`,
    );
    for (const parallel of [1, 4]) {
      const perRequest: number[] = [];
      const aggregate: number[] = [];
      for (let round = 0; round < rounds; round++) {
        const started = performance.now();
        const results: GenerateResponse[] = await Promise.all(
          Array.from({ length: parallel }, (_, i) =>
            generate(forward.url, { model: hpc.ollama.model, prompt, maxTokens, seed: round * 10 + i + 1 }),
          ),
        );
        const wallSeconds = (performance.now() - started) / 1000;
        perRequest.push(...results.map(decodeTokensPerSecond));
        aggregate.push(results.reduce((sum, r) => sum + r.eval_count, 0) / wallSeconds);
      }
      console.log(
        `parallel ${parallel}: decode per request ${mean(perRequest).toFixed(1)} tok/s ` +
          `(min ${Math.min(...perRequest).toFixed(1)}, max ${Math.max(...perRequest).toFixed(1)}), ` +
          `aggregate ${mean(aggregate).toFixed(1)} tok/s`,
      );
    }
  } finally {
    await Promise.all(forwardClosers.map((close) => close()));
    await cancelJobs(hpc.ssh, [jobId]);
  }
}

await main();
