/**
 * Round-trip time of a trivial remote command (`true`) on the ONE shared connection, against opening a
 * new SSH connection per command (what the old system did). Prints median and p99 in milliseconds.
 *   npx tsx test/bridge/bench-ssh.ts [--runs 200] [--fresh-runs 50]
 * Fresh connections run one at a time: sshd's MaxStartups would reset bursts of parallel handshakes.
 */
import { performance } from 'node:perf_hooks';
import { Command } from 'commander';
import { connectToSandbox } from './sandbox-connection.js';

const opts = new Command()
  .option('--runs <n>', 'commands on the shared connection', '200')
  .option('--fresh-runs <n>', 'commands with a new connection each', '50')
  .parse()
  .opts<{ runs: string; freshRuns: string }>();

function percentile(sorted: number[], p: number): number {
  const index = Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1);
  return sorted[Math.max(0, index)] ?? Number.NaN;
}

function summary(label: string, samples: number[]): Record<string, string | number> {
  const sorted = [...samples].sort((a, b) => a - b);
  return {
    label,
    runs: sorted.length,
    medianMs: Number(percentile(sorted, 50).toFixed(2)),
    p99Ms: Number(percentile(sorted, 99).toFixed(2)),
    minMs: Number((sorted[0] ?? Number.NaN).toFixed(2)),
    maxMs: Number((sorted.at(-1) ?? Number.NaN).toFixed(2)),
  };
}

const shared = connectToSandbox();
await shared.connect();
for (let i = 0; i < 10; i += 1) await shared.exec('true'); // warm-up
const sharedSamples: number[] = [];
for (let i = 0; i < Number(opts.runs); i += 1) {
  const start = performance.now();
  const result = await shared.exec('true');
  sharedSamples.push(performance.now() - start);
  if (result.code !== 0) throw new Error(`remote true exited ${result.code}`);
}
await shared.close();

const freshSamples: number[] = [];
for (let i = 0; i < Number(opts.freshRuns); i += 1) {
  const start = performance.now();
  const connection = connectToSandbox();
  const result = await connection.exec('true');
  freshSamples.push(performance.now() - start);
  await connection.close();
  if (result.code !== 0) throw new Error(`remote true exited ${result.code}`);
}

console.table([
  summary('shared connection', sharedSamples),
  summary('new connection per command', freshSamples),
]);
