import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';

const here = dirname(fileURLToPath(import.meta.url));
const cli = join(here, 'cli.ts');
const scratch = mkdtempSync(join(tmpdir(), 'legacy-cli-'));

function runCli(args: string[], input?: string) {
  const result = spawnSync(process.execPath, ['--import', 'tsx', cli, ...args], { encoding: 'utf8', input });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

// Each case starts node with the tsx loader; on a busy 2-core machine that takes seconds.
describe('the legacy recipe converter command', { timeout: 60_000 }, () => {
  afterAll(() => rmSync(scratch, { recursive: true, force: true }));

  it('converts a file, with --no-monitoring, into YAML on stdout', () => {
    const result = runCli([
      join(here, 'inference_recipe.json'),
      '--cluster',
      'c1',
      '--namespace',
      'bench',
      '--no-monitoring',
    ]);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const object = parse(result.stdout) as {
      metadata: unknown;
      spec: { monitoring: unknown; workload: unknown };
    };
    expect(object.metadata).toEqual({ name: 'ollama-inference-job', namespace: 'bench' });
    expect(object.spec.monitoring).toEqual({ enabled: false });
    expect(object.spec.workload).toEqual({ clients: 100, requestsPerClient: 10 });
  });

  it('reads stdin and writes --output', () => {
    const output = join(scratch, 'out.yaml');
    const result = runCli(
      ['-', '--cluster', 'c1', '-o', output],
      JSON.stringify({ job: { service: { model: 'gemma3:270m' } } }),
    );
    expect(result.code).toBe(0);
    expect(readFileSync(output, 'utf8')).toContain('name: gemma3:270m');
  });

  it('exits 1 and names the old field when the recipe cannot be converted', () => {
    const recipe = join(scratch, 'bad.json');
    writeFileSync(
      recipe,
      JSON.stringify({ job: { infrastructure: { time: 'soon' }, service: { model: 'llama2' } } }),
    );
    const result = runCli([recipe, '--cluster', 'c1']);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('error: job.infrastructure.time (spec.slurm.time)');
    expect(result.stdout).toBe('');
  });

  it('exits 2 on a file that is not JSON', () => {
    const recipe = join(scratch, 'broken.json');
    writeFileSync(recipe, '{ "job": ');
    const result = runCli([recipe, '--cluster', 'c1']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('cannot read');
  });
});
