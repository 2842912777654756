import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  ImageReference,
  ModelName,
  ObjectName,
  SlurmName,
  SlurmTime,
  slurmTimeToSeconds,
  withRules,
} from './common.js';

describe('SLURM time limits', () => {
  it.each([
    ['90', 5400],
    ['5', 300],
    ['90:30', 5430],
    ['01:00:00', 3600],
    ['100:00:00', 360_000],
    ['1-0', 86_400],
    ['2-12', 216_000],
    ['1-02:30', 95_400],
    ['1-00:00:00', 86_400],
    ['365-23:59:59', 31_622_399],
  ])('accepts %s as %i seconds', (text, seconds) => {
    expect(SlurmTime.safeParse(text).success).toBe(true);
    expect(slurmTimeToSeconds(text)).toBe(seconds);
  });

  it.each([
    ['an empty string', ''],
    ['zero minutes, which SLURM reads as no limit', '0'],
    ['zero in clock form', '00:00:00'],
    ['zero days and hours', '0-0'],
    ['seconds above 59', '10:75'],
    ['minutes above 59 in HH:MM:SS', '1:60:00'],
    ['hours above 23 after a day', '1-24:00:00'],
    ['more than 365 days', '366-00:00:00'],
    ['a unit suffix', '1h'],
    ['INFINITE', 'INFINITE'],
    ['UNLIMITED', 'UNLIMITED'],
    ['a negative value', '-5'],
    ['four fields', '1:2:3:4'],
    ['a trailing newline', '01:00:00\n'],
    ['a shell substitution', '$(reboot)'],
    ['spaces', '01: 00:00'],
  ])('refuses %s', (_why, text) => {
    expect(SlurmTime.safeParse(text).success).toBe(false);
  });

  it('gives null seconds for text that is not a time', () => {
    expect(slurmTimeToSeconds('soon')).toBeNull();
  });
});

const HOSTILE = [
  'gpu;reboot',
  'gpu && rm -rf /',
  '$(id)',
  '`id`',
  "gpu'",
  'gpu"',
  'gpu\nrm',
  'gpu part',
  '-A',
  '--partition=x',
  'gpu|cat',
  'gpu>x',
  'gpu*',
  '',
];

describe('names that reach a SLURM command line', () => {
  it.each(HOSTILE)('refuses %j as a partition, account or QOS', (text) => {
    expect(SlurmName.safeParse(text).success).toBe(false);
  });
  it.each(['gpu', 'cpu', 'my-project', 'gpu_a100', 'large-mem', 'v1.2'])('accepts %s', (text) => {
    expect(SlurmName.safeParse(text).success).toBe(true);
  });
  it.each(HOSTILE)('refuses %j as a model name', (text) => {
    expect(ModelName.safeParse(text).success).toBe(false);
  });
  it.each([
    'llama2',
    'gemma3:270m',
    'library/llama3.1:8b-instruct-q4_K_M',
    'hf.co/bartowski/Llama-3.2-1B-GGUF:Q4_K_M',
    '127.0.0.1:5000/library/gemma3:270m',
    'registry.local:443/team/model',
  ])('accepts the model %s', (text) => {
    expect(ModelName.safeParse(text).success).toBe(true);
  });
  it.each(['127.0.0.1:5000/', 'host:port/model', 'host:123456/model', 'a:1/b:c:d'])(
    'refuses the model %j (a port needs a registry host and a path after it)',
    (text) => {
      expect(ModelName.safeParse(text).success).toBe(false);
    },
  );
  it.each(HOSTILE.filter((text) => text !== '--partition=x' && text !== '-A'))(
    'refuses %j as an image',
    (text) => {
      expect(ImageReference.safeParse(text).success).toBe(false);
    },
  );
  it.each([
    'ollama/ollama:0.24.0',
    'docker://ollama/ollama:0.24.0',
    'oras://ghcr.io/x/ollama:1',
    '/home/u/images/ollama.sif',
    'registry.example.org:5000/ml/ollama@sha256:0123abcd',
  ])('accepts the image %s', (text) => {
    expect(ImageReference.safeParse(text).success).toBe(true);
  });
  it('refuses upper case and dots at the edge of object names', () => {
    expect(ObjectName.safeParse('My-Cluster').success).toBe(false);
    expect(ObjectName.safeParse('-cluster').success).toBe(false);
    expect(ObjectName.safeParse('cluster.a').success).toBe(true);
  });
});

describe('withRules', () => {
  const Pair = withRules(z.object({ low: z.number(), high: z.number() }), [
    {
      rule: 'self.low <= self.high',
      message: 'low must not exceed high',
      fieldPath: '.low',
      holds: (p) => p.low <= p.high,
    },
  ]);

  it('enforces the rule in zod at the field path', () => {
    const result = Pair.safeParse({ low: 3, high: 1 });
    expect(result.success).toBe(false);
    expect(result.error?.issues[0]?.path).toEqual(['low']);
    expect(result.error?.issues[0]?.message).toBe('low must not exceed high');
  });

  it('carries the same rule as CEL into the JSON schema, appending to earlier rules', () => {
    const Stricter = withRules(Pair, [
      { rule: 'self.high < 10', message: 'too high', holds: (p) => p.high < 10 },
    ]);
    const schema = z.toJSONSchema(Stricter, { target: 'openapi-3.0' }) as Record<string, unknown>;
    expect(schema['x-kubernetes-validations']).toEqual([
      { rule: 'self.low <= self.high', message: 'low must not exceed high', fieldPath: '.low' },
      { rule: 'self.high < 10', message: 'too high' },
    ]);
    expect(Stricter.safeParse({ low: 1, high: 12 }).success).toBe(false);
    expect(Stricter.safeParse({ low: 1, high: 2 }).success).toBe(true);
  });
});
