import { describe, expect, it } from 'vitest';
import { RunId } from '../../../client-service/api-schema.js';
import { sanitizeJobName } from '../../../slurm-bridge/index.js';
import { buildSbatchCommand } from '../../../slurm-bridge/slurm/sbatch.js';
import { jobLogPath, jobName, normalizeModelName, runIdentity, runPaths } from './run-identity.js';

const UID = '3b74c0af-0ba3-4174-9fe3-9efca29c1e68';

describe('run identity', () => {
  it('gives a run id the client-service accepts and a tag sbatch accepts', () => {
    const run = runIdentity(UID, 12);
    expect(RunId.safeParse(run.runId).success).toBe(true);
    expect(() => buildSbatchCommand({ script: '#!/bin/bash', name: 'x', tag: run.tag })).not.toThrow();
  });

  it('keeps every generation of one benchmark under one tag prefix, and other benchmarks out of it', () => {
    const prefix = runIdentity(UID, 1).tagPrefix;
    expect(runIdentity(UID, 2).tag.startsWith(prefix)).toBe(true);
    expect(runIdentity('3b74c0af-0000-4174-9fe3-9efca29c1e68', 1).tag.startsWith(prefix)).toBe(false);
    // Generation 1 must not be a prefix of generation 10's tag when adopting by exact tag.
    expect(runIdentity(UID, 10).tag).not.toBe(runIdentity(UID, 1).tag);
  });

  it('names jobs so that the name survives sanitizing unchanged (adoption compares names)', () => {
    const name = jobName('server', 'team-a', 'llama2-100c');
    expect(sanitizeJobName(name)).toBe(name);
  });

  it('puts one log per job id in the run folder', () => {
    const paths = runPaths('/home/u/hpcbench', 'team', 'bench', `${UID}-g1`);
    expect(paths.dir).toBe(`/home/u/hpcbench/benchmarks/team/bench/${UID}-g1`);
    expect(jobLogPath(paths, 'client', '42')).toBe(`${paths.dir}/client-42.log`);
  });

  it('compares model names the way Ollama lists them', () => {
    expect(normalizeModelName('llama2')).toBe('llama2:latest');
    expect(normalizeModelName('gemma3:270m')).toBe('gemma3:270m');
    expect(normalizeModelName('127.0.0.1:5000/library/gemma3')).toBe('127.0.0.1:5000/library/gemma3:latest');
    expect(normalizeModelName('127.0.0.1:5000/library/gemma3:270m')).toBe(
      '127.0.0.1:5000/library/gemma3:270m',
    );
  });
});
