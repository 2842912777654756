/**
 * Captures real Slurm outputs from the sandbox into slurm-bridge/fixtures/, using exactly the commands the
 * client runs. Run: npx tsx test/bridge/capture-fixtures.ts   (takes ~2 minutes: it waits for a TIMEOUT)
 * With `--accounting` it captures only the sacct fixtures (sacct-finished.txt, batch-query-accounting.txt)
 * and leaves the others, whose job ids the tests name, alone.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { shellQuote } from '../../slurm-bridge/shell/quote.js';
import { buildBatchQueryCommand } from '../../slurm-bridge/slurm/query.js';
import { buildSacctCommand } from '../../slurm-bridge/slurm/sacct.js';
import { buildSbatchCommand } from '../../slurm-bridge/slurm/sbatch.js';
import { buildClusterInfoCommand } from '../../slurm-bridge/slurm/sinfo.js';
import { buildSqueueCommand } from '../../slurm-bridge/slurm/squeue.js';
import { requireHpc } from '../sandbox/description.js';
import { connectToSandbox, waitFor } from './sandbox-connection.js';

const hpc = requireHpc();
const out = join(import.meta.dirname, '../../slurm-bridge/fixtures');
const connection = connectToSandbox();
const exec = connection.execFunction;
const tag = `fixture-${Date.now()}`;

async function submitRaw(
  args: string,
  script: string,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return exec(
    `sbatch --parsable --comment=${shellQuote(tag)} --output=${shellQuote(`${hpc.slurm.jobOutputDir}/fixture-%j.out`)} ${args}`,
    {
      stdin: `#!/bin/bash\n${script}\n`,
    },
  );
}
async function submit(args: string, script: string): Promise<string> {
  const r = await submitRaw(args, script);
  if (r.code !== 0) throw new Error(r.stderr);
  return r.stdout.trim();
}
function save(name: string, text: string): void {
  writeFileSync(join(out, name), text);
  console.log(`wrote ${name} (${text.length} bytes)`);
}

if (process.argv.includes('--accounting')) {
  await captureAccounting();
  await connection.close();
  process.exit(0);
}

/** Finished jobs of every kind as sacct and the batch query (which asks sacct for them) report them. */
async function captureAccounting(): Promise<void> {
  const ok = await submit('--job-name=fx-ok', 'echo hello');
  const fail = await submit('--job-name=fx-fail', 'exit 3');
  const cancel = await submit('--job-name=fx-cancel', 'sleep 600');
  const odd = await submit(`--job-name=${shellQuote('odd |~| name; $(id)')}`, 'exit 0');
  const limit = await submit('--job-name=fx-timeout --time=1', 'sleep 600');
  const finished = [ok, fail, cancel, odd, limit];
  await waitFor('the sleepers to run', async () => {
    const r = await exec(buildSqueueCommand({ ids: [cancel, limit] }));
    return (r.stdout.match(/RUNNING/g) ?? []).length === 2 ? true : undefined;
  });
  await exec(`scancel ${shellQuote(cancel)}`);
  console.log('waiting for the time limit to kill the timeout job (up to ~2.5 min)');
  await waitFor(
    'every job ended in accounting',
    async () => {
      const r = await exec(buildSacctCommand(finished));
      const ended = r.stdout
        .split('\n')
        .filter((line) => /\|~\|(COMPLETED|FAILED|CANCELLED|TIMEOUT)/.test(line));
      return ended.length === finished.length ? true : undefined;
    },
    { timeoutMs: 200_000, intervalMs: 3000 },
  );
  save('sacct-finished.txt', (await exec(buildSacctCommand(finished))).stdout);
  save('batch-query-accounting.txt', (await exec(buildBatchQueryCommand([...finished, '999999']))).stdout);
  console.log(JSON.stringify({ tag, ids: { ok, fail, cancel, odd, limit } }));
}

const completed = await submit('--job-name=fx-ok', 'echo hello');
const failed = await submit('--job-name=fx-fail', 'exit 3');
const running = await submit('--job-name=fx-long --gres=gpu:4 -p gpu', 'sleep 600');
const pendingResources = await submit('--job-name=fx-wait-gpu --gres=gpu:1 -p gpu', 'sleep 5');
const pendingConfig = await submit('--job-name=fx-too-many-cpus -c 9', 'sleep 5');
const oddName = await submit(`--job-name=${shellQuote('odd |~| name; $(id)')}`, 'sleep 600');
const timeout = await submit('--job-name=fx-timeout --time=1', 'sleep 600');
const ids = [completed, failed, running, pendingResources, pendingConfig, oddName, timeout];

await waitFor('running jobs', async () => {
  const r = await exec(buildSqueueCommand({ ids: [running, oddName, timeout] }));
  return (r.stdout.match(/RUNNING/g) ?? []).length === 3 ? true : undefined;
});
await waitFor('finished jobs', async () => {
  const r = await exec(buildSqueueCommand({ ids: [completed, failed] }));
  return /COMPLETED/.test(r.stdout) && /FAILED/.test(r.stdout) ? true : undefined;
});
save('squeue-mixed.txt', (await exec(buildSqueueCommand({ ids }))).stdout);
save('batch-query-mixed.txt', (await exec(buildBatchQueryCommand([...ids, '999999']))).stdout);
save('cluster-info.txt', (await exec(buildClusterInfoCommand())).stdout);

const badPartition = await submitRaw('-p nosuchpartition', 'true');
save('sbatch-invalid-partition.stderr.txt', badPartition.stderr);
const badTime = await submitRaw('--time=banana', 'true');
save('sbatch-invalid-time.stderr.txt', badTime.stderr);
const badMem = await submitRaw('--mem=99999999M', 'true');
save('sbatch-bad-memory.stderr.txt', badMem.stderr);
save(
  'sbatch-ok.stdout.txt',
  (
    await exec(buildSbatchCommand({ script: '#!/bin/sh\ntrue\n', name: 'fx-parsable', tag }), {
      stdin: '#!/bin/sh\ntrue\n',
    })
  ).stdout,
);

await exec(`scancel ${shellQuote(running)} ${shellQuote(oddName)}`);
console.log('waiting for the time limit to kill the timeout job (up to ~2.5 min)');
await waitFor(
  'TIMEOUT',
  async () => {
    const r = await exec(buildSqueueCommand({ ids: [timeout] }));
    return /TIMEOUT/.test(r.stdout) ? true : undefined;
  },
  { timeoutMs: 200_000, intervalMs: 3000 },
);
await waitFor('cancelled', async () => {
  const r = await exec(buildSqueueCommand({ ids: [running, oddName] }));
  return (r.stdout.match(/CANCELLED/g) ?? []).length === 2 ? true : undefined;
});
save('batch-query-finished.txt', (await exec(buildBatchQueryCommand(ids))).stdout);
save('scancel-unknown.txt', JSON.stringify(await exec('scancel 999999'), null, 2));
await exec(`scancel ${ids.map(shellQuote).join(' ')}`);
console.log(
  JSON.stringify({
    tag,
    ids: { completed, failed, running, pendingResources, pendingConfig, oddName, timeout },
  }),
);
await connection.close();
