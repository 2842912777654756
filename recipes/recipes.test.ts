import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { parseInferenceBenchmark, parseSlurmCluster } from '../crds/index.js';
import { parseDataset } from '../operator/controllers/inference-benchmark/dataset.js';

const recipesDir = dirname(fileURLToPath(import.meta.url));
/** The example manifests a user copies: every YAML file directly in recipes/ (argocd/ needs Argo CD's CRDs). */
const recipeFiles = readdirSync(recipesDir).filter((f) => f.endsWith('.yaml'));

function documents(file: string): Record<string, unknown>[] {
  return parseAllDocuments(readFileSync(join(recipesDir, file), 'utf8')).map(
    (doc) => doc.toJS({ maxAliasCount: -1 }) as Record<string, unknown>,
  );
}

describe('example recipes', () => {
  it('exist: a minimal benchmark, the converted old recipe, and a cluster with its Secret', () => {
    expect(recipeFiles).toEqual(
      expect.arrayContaining([
        'benchmark-minimal.yaml',
        'benchmark-llama2-100-clients.yaml',
        'slurm-cluster.yaml',
      ]),
    );
  });

  it.each(recipeFiles)('%s holds only objects the zod schemas accept', (file) => {
    for (const doc of documents(file)) {
      if (doc.kind === 'InferenceBenchmark') {
        const result = parseInferenceBenchmark(doc);
        expect(result.ok ? '' : result.message).toBe('');
      } else if (doc.kind === 'SlurmCluster') {
        const result = parseSlurmCluster(doc);
        expect(result.ok ? '' : result.message).toBe('');
      } else {
        expect(doc.kind).toBe('Secret');
      }
    }
  });
});

describe('example datasets', () => {
  it('sharegpt-small.json reads as a ShareGPT dataset of 20 to 30 rows, each bounded by its answer', () => {
    const text = readFileSync(join(recipesDir, 'datasets', 'sharegpt-small.json'), 'utf8');
    const parsed = parseDataset(text, 'sharegpt', 64);
    expect(parsed.ok ? '' : parsed.message).toBe('');
    if (!parsed.ok) return;
    expect(parsed.rows.length).toBeGreaterThanOrEqual(20);
    expect(parsed.rows.length).toBeLessThanOrEqual(30);
    expect(parsed.rows.every((row) => row.maxTokens >= 1 && row.maxTokens <= 64)).toBe(true);
  });
});
