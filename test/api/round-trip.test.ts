import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type * as k8s from '@kubernetes/client-node';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import {
  INFERENCE_BENCHMARK_PLURAL,
  InferenceBenchmark,
  type ParseResult,
  parseInferenceBenchmark,
  parseSlurmCluster,
  SLURM_CLUSTER_PLURAL,
  SlurmCluster,
} from '../../crds/index.js';
import { customObjectsApi, dryRunCreate, freshNamespace, installCrds, recipesDir } from './api-support.js';

/**
 * Round trip between the apiserver (the CRD generated from zod) and zod itself: for many manifests, the
 * apiserver's verdict (dry-run create, strict field validation) and zod's must agree:
 * - every manifest the apiserver accepts, zod accepts, and zod's defaults equal the stored object's;
 * - every manifest the apiserver rejects, zod rejects.
 * The manifests are the recipes plus seeded random mutations of good ones, drawn from values at and beyond
 * every limit. JSON null is left out on purpose: the apiserver prunes null from non-nullable fields before
 * validation, zod refuses it; the operator only ever parses stored (pruned) objects.
 */

type Json = string | number | boolean | Json[] | { [key: string]: Json };
type Manifest = { [key: string]: Json };

/** mulberry32: small, seeded, good enough to pick test values reproducibly. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

const DELETE = Symbol('delete');
type Candidate = Json | typeof DELETE;

const slurmNames: Candidate[] = [
  'gpu',
  'a'.repeat(64),
  'a'.repeat(65),
  '_x',
  '-x',
  '.x',
  'x.y-z_1',
  '',
  'é',
  'a b',
  DELETE,
];
const times: Candidate[] = [
  '1',
  '59:59',
  '60:00',
  '99999',
  '100000',
  '0:00',
  '23:59:59',
  '9999:59:59',
  '10000:00:00',
  '1-0',
  '365-23',
  '366-0',
  '1-24',
  '00:00:01',
  ' 01:00:00',
  '1:1:1',
  'abc',
  30,
  DELETE,
];

const BENCHMARK_POOL: Record<string, Candidate[]> = {
  'metadata.name': ['a'.repeat(63), 'a'.repeat(64), 'x'],
  'spec.clusterRef.name': ['c', 'C', 'a.b', 'a_b', 'a'.repeat(253), 'a'.repeat(254), '', DELETE],
  'spec.clusterRef': [{}, { name: 'c', extra: 'x' }, DELETE],
  'spec.model.name': [
    'llama2',
    'a:b',
    'a/b/c:d',
    'a:',
    ':b',
    'A',
    'a'.repeat(200),
    'a'.repeat(201),
    'hf.co/x/y:Q4',
    'a//b',
    'a:b:c',
    7,
    DELETE,
  ],
  'spec.model.precision': ['fp16', '', 'q4_K_M', 'x y', 'a'.repeat(33), DELETE],
  'spec.slurm.partition': slurmNames,
  'spec.slurm.account': slurmNames,
  'spec.slurm.qos': ['normal', 'x y', DELETE],
  'spec.slurm.nodes': [1, 64, 65, 0, DELETE],
  'spec.slurm.memGB': [1, 4096, 4097, 1.5, '4', DELETE],
  'spec.slurm.time': times,
  'spec.slurm.gpus': [0, 16, 17, DELETE],
  'spec.slurm.cpusPerTask': [1, 256, 257, 0, DELETE],
  'spec.slurm': [{}, DELETE],
  'spec.workload.clients': [1, 10_000, 10_001, 0, -1, 2.5, '5', DELETE],
  'spec.workload.requestsPerClient': [1, 100, 101, 100_000, 100_001, 0, DELETE],
  'spec.workload.mode': ['open', 'closed', 'Open', '', DELETE],
  'spec.workload.ratePerSecond': [0.5, 0, 10_000, 10_001, -1, '3', DELETE],
  'spec.workload.maxConcurrency': [1, 0, 5, 100_000, 100_001, DELETE],
  'spec.workload.prompt': ['hi', '', 'x'.repeat(65_536), 'x'.repeat(65_537), DELETE],
  'spec.workload.prompts': [
    ['a'],
    [],
    ['a', 'b'],
    [''],
    'a',
    Array(256).fill('p'),
    Array(257).fill('p'),
    DELETE,
  ],
  'spec.workload.temperature': [0, 2, 2.01, -0.1, 1, DELETE],
  'spec.workload.seed': [0, 2_147_483_647, 2_147_483_648, -1, DELETE],
  'spec.workload.maxTokens': [1, 131_072, 131_073, DELETE],
  'spec.workload.warmupRequests': [0, 10_000, 10_001, DELETE],
  'spec.workload.requestTimeoutSeconds': [1, 86_400, 86_401, 0, DELETE],
  'spec.workload': [{}, DELETE],
  'spec.server.engine': ['ollama', 'Ollama', DELETE],
  'spec.server.image': [
    'docker://x',
    '/a.sif',
    'x',
    'docker:/x',
    'http://x',
    '//x',
    'a b',
    'x:1@sha256:ab',
    DELETE,
  ],
  'spec.server.numParallel': [1, 1024, 1025, DELETE],
  'spec.server.maxLoadedModels': [1, 16, 17, DELETE],
  'spec.server.env': [
    [{ name: 'A', value: '' }],
    [{ name: '1A', value: 'x' }],
    [
      { name: 'A', value: 'x' },
      { name: 'A', value: 'y' },
    ],
    [{ name: 'OLLAMA_MODELS', value: 'x' }],
    [{ name: 'A' }],
    [],
    DELETE,
  ],
  'spec.clientService.partition': slurmNames,
  'spec.clientService.memGB': [1, 1024, 1025, DELETE],
  'spec.clientService.time': times,
  'spec.clientService.cpus': [1, 256, 257, DELETE],
  'spec.monitoring.enabled': [true, false, 'true', DELETE],
  'spec.monitoring': [{}, DELETE],
  'spec.cleanupPolicy': ['Keep', 'Delete', 'keep', DELETE],
  'spec.unknownField': [1],
};

const CLUSTER_POOL: Record<string, Candidate[]> = {
  'spec.host': ['login.example.org', '10.0.0.1', 'fe80::1', 'a_b', '-x', 'a..b', 'a'.repeat(254), DELETE],
  'spec.port': [1, 22, 65_535, 65_536, 0, DELETE],
  'spec.user': ['u1', '_u', 'U.x-y', '-u', '1u', 'a'.repeat(64), 'a'.repeat(65), DELETE],
  'spec.sshSecretRef.name': ['s', 'S', DELETE],
  'spec.sshSecretRef.privateKeyKey': ['id_ed25519', 'a/b', DELETE],
  'spec.workDir': ['hpcbench', '/home/u/hpcbench', '../x', 'a/../b', 'a..b', '-x', 'a b', '', DELETE],
  'spec.containerRuntime': ['apptainer', 'singularity', 'native', 'docker', DELETE],
  'spec.modules': [['Apptainer'], [], ['a b'], Array(32).fill('m'), Array(33).fill('m'), DELETE],
  'spec.defaults.account': slurmNames,
  'spec.defaults.serverPartition': slurmNames,
  'spec.defaults': [{}, DELETE],
  'spec.monitoring.enabled': [true, false, DELETE],
  'spec.monitoring.time': times,
  'spec.monitoring.memGB': [1, 256, 257, DELETE],
  'spec.monitoring.scrapeIntervalSeconds': [1, 300, 301, DELETE],
  'spec.monitoring.grafanaAdminSecretRef': [
    { name: 'g' },
    { name: 'g', userKey: 'u', passwordKey: 'p' },
    {},
    DELETE,
  ],
};

function baseBenchmark(): Manifest {
  return {
    apiVersion: 'hpcbench.io/v1alpha1',
    kind: 'InferenceBenchmark',
    metadata: { name: 'fuzz' },
    spec: {
      clusterRef: { name: 'c' },
      model: { name: 'llama2', precision: 'fp16' },
      slurm: { partition: 'gpu', account: 'p1', nodes: 1, memGB: 64, time: '01:00:00' },
      workload: { clients: 100, requestsPerClient: 10, prompt: 'Why?' },
      clientService: { partition: 'cpu' },
    },
  };
}

function baseCluster(): Manifest {
  return {
    apiVersion: 'hpcbench.io/v1alpha1',
    kind: 'SlurmCluster',
    metadata: { name: 'fuzz' },
    spec: { host: 'login.example.org', user: 'u1', sshSecretRef: { name: 's' }, modules: ['Apptainer'] },
  };
}

function setPath(manifest: Manifest, path: string, value: Candidate): void {
  const keys = path.split('.');
  let node: { [key: string]: Json } = manifest;
  for (const key of keys.slice(0, -1)) {
    const next = node[key];
    if (typeof next !== 'object' || next === null || Array.isArray(next)) node[key] = {};
    node = node[key] as { [key: string]: Json };
  }
  const last = keys.at(-1) ?? '';
  if (value === DELETE) delete node[last];
  else node[last] = structuredClone(value);
}

function mutants(
  base: () => Manifest,
  pool: Record<string, Candidate[]>,
  count: number,
  seed: number,
): Manifest[] {
  const next = random(seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)] as T;
  const paths = Object.keys(pool);
  const result: Manifest[] = [];
  // Every single value once, then random combinations of two or three (where CEL rules bite).
  for (const path of paths)
    for (const value of pool[path] ?? []) {
      const manifest = base();
      setPath(manifest, path, value);
      result.push(manifest);
    }
  while (result.length < count) {
    const manifest = base();
    const changes = 2 + Math.floor(next() * 2);
    for (let i = 0; i < changes; i++) {
      const path = pick(paths);
      setPath(manifest, path, pick(pool[path] ?? []));
    }
    result.push(manifest);
  }
  return result;
}

interface Disagreement {
  manifest: Manifest;
  apiserver: string;
  zod: string;
}

async function compare(
  api: k8s.CustomObjectsApi,
  namespace: string,
  plural: string,
  manifests: Manifest[],
  parse: (input: unknown) => ParseResult<{ spec: unknown }>,
): Promise<{ accepted: number; rejected: number; disagreements: Disagreement[] }> {
  let accepted = 0;
  let rejected = 0;
  const disagreements: Disagreement[] = [];
  for (const manifest of manifests) {
    const verdict = await dryRunCreate(api, namespace, plural, manifest);
    const fromZod = parse(manifest);
    if (verdict.accepted) {
      accepted += 1;
      const fromStored = parse(verdict.stored);
      if (!fromZod.ok) {
        disagreements.push({ manifest, apiserver: 'accepted', zod: fromZod.message });
      } else if (!fromStored.ok) {
        disagreements.push({ manifest, apiserver: 'accepted (stored form)', zod: fromStored.message });
      } else if (JSON.stringify(sorted(fromZod.value.spec)) !== JSON.stringify(sorted(verdict.stored.spec))) {
        disagreements.push({
          manifest,
          apiserver: `stored spec ${JSON.stringify(verdict.stored.spec)}`,
          zod: `defaulted spec ${JSON.stringify(fromZod.value.spec)}`,
        });
      }
    } else {
      rejected += 1;
      if (fromZod.ok)
        disagreements.push({ manifest, apiserver: verdict.message.slice(0, 500), zod: 'accepted' });
    }
  }
  return { accepted, rejected, disagreements };
}

/** Key-sorted copy, so two objects compare by content only. */
function sorted(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sorted);
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(
      Object.entries(value)
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([k, v]) => [k, sorted(v)]),
    );
  }
  return value;
}

function recipeObjects(kind: string): Manifest[] {
  return readdirSync(recipesDir)
    .filter((file) => file.endsWith('.yaml'))
    .flatMap((file) =>
      parseAllDocuments(readFileSync(join(recipesDir, file), 'utf8')).map((d) => d.toJS() as Manifest),
    )
    .filter((object) => object.kind === kind);
}

describe('zod and the apiserver agree', () => {
  let namespace = '';
  let api: k8s.CustomObjectsApi;
  beforeAll(async () => {
    await installCrds();
    namespace = await freshNamespace('api-roundtrip');
    api = customObjectsApi();
  });

  it('on every InferenceBenchmark in recipes/ and 400 mutations of a good one', async () => {
    const manifests = [
      ...recipeObjects('InferenceBenchmark'),
      ...mutants(baseBenchmark, BENCHMARK_POOL, 400, 20261128),
    ];
    const outcome = await compare(
      api,
      namespace,
      INFERENCE_BENCHMARK_PLURAL,
      manifests,
      parseInferenceBenchmark,
    );
    console.log(
      `InferenceBenchmark round trip: ${manifests.length} manifests, ${outcome.accepted} accepted, ${outcome.rejected} rejected, ${outcome.disagreements.length} disagreements`,
    );
    expect(outcome.accepted).toBeGreaterThan(50);
    expect(outcome.rejected).toBeGreaterThan(50);
    expect(outcome.disagreements.slice(0, 5)).toEqual([]);
  });

  it('on every SlurmCluster in recipes/ and 200 mutations of a good one', async () => {
    const manifests = [...recipeObjects('SlurmCluster'), ...mutants(baseCluster, CLUSTER_POOL, 200, 42)];
    const outcome = await compare(api, namespace, SLURM_CLUSTER_PLURAL, manifests, parseSlurmCluster);
    console.log(
      `SlurmCluster round trip: ${manifests.length} manifests, ${outcome.accepted} accepted, ${outcome.rejected} rejected, ${outcome.disagreements.length} disagreements`,
    );
    expect(outcome.accepted).toBeGreaterThan(30);
    expect(outcome.rejected).toBeGreaterThan(30);
    expect(outcome.disagreements.slice(0, 5)).toEqual([]);
  });

  it('on a real create: the stored object parses to itself', async () => {
    const created = (await api.createNamespacedCustomObject({
      group: 'hpcbench.io',
      version: 'v1alpha1',
      namespace,
      plural: INFERENCE_BENCHMARK_PLURAL,
      body: baseBenchmark(),
    })) as Record<string, unknown>;
    const parsed = InferenceBenchmark.parse(created);
    expect(sorted(parsed.spec)).toEqual(sorted(created.spec));
    expect(parsed.metadata.uid).toBe((created.metadata as { uid: string }).uid);
    const cluster = (await api.createNamespacedCustomObject({
      group: 'hpcbench.io',
      version: 'v1alpha1',
      namespace,
      plural: SLURM_CLUSTER_PLURAL,
      body: baseCluster(),
    })) as Record<string, unknown>;
    expect(sorted(SlurmCluster.parse(cluster).spec)).toEqual(sorted(cluster.spec));
  });
});
