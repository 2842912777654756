import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ENGINES } from './registry.js';
import type { EngineJobInput, EngineName } from './types.js';

const HOSTILE_ARGS = ['--foo; touch /tmp/ibo-pwned', '$(id)', '`id`', "it's", 'a b', '--x=$HOME'];
const TOKEN_FILE = '/w/benchmarks/b/server.hf-token';

function input(extra: Partial<EngineJobInput> = {}): EngineJobInput {
  return {
    endpointFile: '/w/benchmarks/b/server.endpoint',
    modelStateFile: '/w/benchmarks/b/server.model.json',
    targetsDir: '/w/monitoring/targets',
    cacheDir: '/home/u/.cache/huggingface',
    benchmark: 'b',
    model: { name: 'Qwen/Qwen2.5-0.5B-Instruct', revision: 'main' },
    ...extra,
  };
}

const GPU_APPTAINER: Partial<EngineJobInput> = {
  runtime: { runtime: 'apptainer', binds: ['/w'] },
  gpus: 4,
  hfTokenFile: TOKEN_FILE,
  args: HOSTILE_ARGS,
};

function bashAccepts(script: string): void {
  execFileSync('bash', ['-n'], { input: script });
}

describe('engine job scripts as text (golden files under fixtures/engines)', () => {
  const cases: Array<[EngineName, Partial<EngineJobInput>]> = [
    ['vllm', GPU_APPTAINER],
    ['sglang', GPU_APPTAINER],
    [
      'llamacpp',
      { model: { name: 'ggml-org/gemma-3-270m-GGUF', file: 'gemma-3-270m-Q8_0.gguf' }, numParallel: 4 },
    ],
    ['ollama', { model: { name: 'gemma3:270m' }, cacheDir: '/home/u/.ollama/models', numParallel: 4 }],
  ];
  it.each(cases)('%s: bash -n accepts it, and it matches its golden file', async (name, extra) => {
    const script = ENGINES[name].jobScript(input(extra));
    bashAccepts(script);
    await expect(script).toMatchFileSnapshot(`../fixtures/engines/${name}.sh`);
  });

  it.each(['vllm', 'sglang'] as const)('%s on 4 GPUs: --nv, one tensor-parallel rank per GPU', (name) => {
    const script = ENGINES[name].jobScript(input(GPU_APPTAINER));
    expect(script).toMatch(/'apptainer' 'exec' '--nv' '--bind' '[^']*\/home\/u\/.cache\/huggingface[^']*'/);
    const tp = name === 'vllm' ? "'--tensor-parallel-size' '4'" : "'--tp-size' '4'";
    expect(script).toContain(tp);
    expect(ENGINES[name].jobScript(input({ ...GPU_APPTAINER, tensorParallelSize: 2 }))).toContain(
      tp.replace("'4'", "'2'"),
    );
  });

  it.each(['vllm', 'sglang'] as const)('%s: no --nv without GPUs', (name) => {
    const script = ENGINES[name].jobScript(input({ ...GPU_APPTAINER, gpus: 0 }));
    expect(script).not.toContain('--nv');
  });

  it.each(['vllm', 'sglang'] as const)(
    '%s: every extra flag is one quoted word, after the operator flags',
    (name) => {
      const script = ENGINES[name].jobScript(input(GPU_APPTAINER));
      expect(script).toContain(
        "'--foo; touch /tmp/ibo-pwned' '$(id)' '`id`' 'it'\"'\"'s' 'a b' '--x=$HOME' &",
      );
    },
  );

  it.each(['vllm', 'sglang'] as const)(
    '%s: the Hugging Face token is read from its file, never written in',
    (name) => {
      const script = ENGINES[name].jobScript(input(GPU_APPTAINER));
      expect(script).toContain(`HF_TOKEN=$(< '${TOKEN_FILE}')`);
      expect(script).toContain('export HF_TOKEN');
      // The serve command line carries no token: the engine reads HF_TOKEN from its environment.
      const serve = script.split('\n').find((line) => line.includes("'exec'")) ?? '';
      expect(serve).not.toContain('TOKEN');
    },
  );

  it('Ollama keeps its own protocol first; the others speak only openai', () => {
    expect(ENGINES.ollama.protocols).toEqual(['ollama', 'openai']);
    for (const name of ['vllm', 'sglang', 'llamacpp'] as const)
      expect(ENGINES[name].protocols).toEqual(['openai']);
  });
});

function realPython(): string {
  return execFileSync('bash', ['-c', 'command -v python3'], { encoding: 'utf8' }).trim();
}

describe('engine job scripts run by bash with a stand-in engine', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ibo-engines-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  /**
   * A fake `vllm`/`python3`/`llama-server` on the PATH records its argv (NUL-separated) and exits 7 without
   * listening: the script must pass every extra flag as one argument, run none of them, and report the
   * engine's exit in the state file with exit code 3.
   */
  function runWithStandIn(name: EngineName, program: string, extra: Partial<EngineJobInput>) {
    const bin = join(dir, `${name}-bin`);
    execFileSync('mkdir', ['-p', bin]);
    const argvFile = join(dir, `${name}.argv`);
    const standIn = join(bin, program);
    // The job itself uses python3 to find a free port: the stand-in python3 passes everything but `-m` on.
    const passOn =
      program === 'python3' ? `[ "$1" = -m ] || exec ${JSON.stringify(realPython())} "$@"\n` : '';
    writeFileSync(
      standIn,
      `#!/bin/bash\n${passOn}printf '%s\\0' "$@" > ${JSON.stringify(argvFile)}\nexit 7\n`,
    );
    chmodSync(standIn, 0o755);
    const work = join(dir, name);
    const script = ENGINES[name].jobScript(
      input({
        endpointFile: join(work, 'server.endpoint'),
        modelStateFile: join(work, 'server.model.json'),
        targetsDir: join(work, 'targets'),
        cacheDir: join(work, 'cache'),
        readyTimeoutSeconds: 30,
        ...extra,
      }),
    );
    const result = spawnSync('bash', ['-c', script], {
      env: { PATH: `${bin}:${process.env.PATH}`, SLURM_JOB_ID: '1', SLURMD_NODENAME: '127.0.0.1', HOME: dir },
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: 60_000,
    });
    const argv = existsSync(argvFile) ? readFileSync(argvFile, 'utf8').split('\0').slice(0, -1) : [];
    const state = readFileSync(join(work, 'server.model.json'), 'utf8');
    return { status: result.status, argv, state, endpointWritten: existsSync(join(work, 'server.endpoint')) };
  }

  it.each([
    ['vllm', 'vllm'],
    ['sglang', 'python3'],
    ['llamacpp', 'llama-server'],
  ] as const)('%s: hostile flags arrive as single arguments and never execute', (name, program) => {
    rmSync('/tmp/ibo-pwned', { force: true });
    const model =
      name === 'llamacpp' ? { name: 'gemma', path: join(dir, 'gemma.gguf') } : { name: 'org/model' };
    const run = runWithStandIn(name, program, { runtime: { runtime: 'native' }, args: HOSTILE_ARGS, model });
    expect(run.argv.slice(-HOSTILE_ARGS.length)).toEqual(HOSTILE_ARGS);
    expect(existsSync('/tmp/ibo-pwned')).toBe(false);
    expect(run.status).toBe(3);
    expect(JSON.parse(run.state).error).toMatch(/exited with status 7 before it answered/);
    expect(run.endpointWritten).toBe(false);
  });
});
