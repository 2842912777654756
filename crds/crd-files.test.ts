import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { expectedCrdFiles } from './crd-files.js';
import { allCrds } from './definitions.js';
import type { JsonValue, SchemaNode } from './to-openapi.js';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');

function isNode(value: JsonValue | undefined): value is SchemaNode {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Every schema node with its path, depth first. */
function* walk(node: SchemaNode, path: string): Generator<[string, SchemaNode]> {
  yield [path, node];
  if (isNode(node.properties)) {
    for (const [name, child] of Object.entries(node.properties))
      if (isNode(child)) yield* walk(child, `${path}.${name}`);
  }
  if (isNode(node.items)) yield* walk(node.items, `${path}[]`);
  if (isNode(node.additionalProperties)) yield* walk(node.additionalProperties, `${path}[*]`);
}

describe('generated CRD YAML', () => {
  it.each(expectedCrdFiles().map((f) => [f.path, f.content] as const))(
    '%s is committed and matches the zod schemas (run `npx tsx crds/generate.ts` if not)',
    (path, content) => {
      expect(readFileSync(join(repoRoot, path), 'utf8')).toBe(content);
    },
  );

  it('parses back to the objects it was rendered from', () => {
    const [first] = expectedCrdFiles();
    expect(parse(first?.content ?? '')).toEqual(allCrds()[0]);
  });
});

describe.each(allCrds().map((crd) => [crd.spec.names.kind, crd] as const))('the %s CRD', (_kind, crd) => {
  const version = crd.spec.versions[0];
  const root = version?.schema.openAPIV3Schema ?? {};
  const spec = isNode(root.properties) ? root.properties.spec : undefined;
  const status = isNode(root.properties) ? root.properties.status : undefined;

  it('has a description on every spec and status field, for kubectl explain', () => {
    const missing: string[] = [];
    for (const top of [spec, status]) {
      if (!isNode(top)) continue;
      for (const [path, node] of walk(top, '')) {
        // Items of a list and values of a map are described by their list or map.
        if (path.endsWith('[]') || path.endsWith('[*]')) continue;
        if (typeof node.description !== 'string' || node.description.length === 0) missing.push(path);
      }
    }
    expect(missing).toEqual([]);
  });

  it('gives every node a type and bounds every string and list (CEL cost and absurd sizes)', () => {
    const problems: string[] = [];
    for (const [path, node] of walk(root, '')) {
      if (node.type === undefined) problems.push(`${path}: no type`);
      if (path.startsWith('.metadata') || path === '.apiVersion' || path === '.kind') continue;
      if (
        node.type === 'string' &&
        node.enum === undefined &&
        node.format === undefined &&
        node.maxLength === undefined
      )
        problems.push(`${path}: string without maxLength`);
      if (node.type === 'array' && node.maxItems === undefined)
        problems.push(`${path}: list without maxItems`);
    }
    expect(problems).toEqual([]);
  });

  it('has the status subresource, the hpcbench category and printer columns', () => {
    expect(version?.subresources).toEqual({ status: {} });
    expect(crd.spec.names.categories).toEqual(['hpcbench']);
    expect(version?.additionalPrinterColumns.at(-1)?.name).toBe('Age');
  });
});

describe('printer columns', () => {
  it('match the issue for InferenceBenchmark and SlurmCluster', () => {
    const columns = Object.fromEntries(
      allCrds().map((crd) => [
        crd.spec.names.kind,
        crd.spec.versions[0]?.additionalPrinterColumns.map((c) => c.name),
      ]),
    );
    expect(columns).toEqual({
      InferenceBenchmark: ['Phase', 'Model', 'Clients', 'Progress', 'Tok/s', 'TTFT p50', 'Knee/SLO', 'Age'],
      SlurmCluster: ['Ready', 'Host', 'Slurm Version', 'Monitoring', 'Age'],
    });
  });
});
