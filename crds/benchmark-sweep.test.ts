import { describe, expect, it } from 'vitest';
import { Sweep } from './benchmark-sweep.js';
import { allCrds } from './definitions.js';
import { parseInferenceBenchmark } from './parse.js';
import type { SchemaNode } from './to-openapi.js';

/** Every schema node of a CRD with its path. */
function* nodes(node: SchemaNode, path: string): Generator<[string, SchemaNode]> {
  yield [path, node];
  const properties = node.properties as Record<string, SchemaNode> | undefined;
  for (const [name, child] of Object.entries(properties ?? {})) yield* nodes(child, `${path}.${name}`);
  if (node.items && typeof node.items === 'object') yield* nodes(node.items as SchemaNode, `${path}[]`);
}

describe('the sweep, repeat and SLO schemas', () => {
  it('have no nullable enum in any CRD: the apiserver refuses its null, listed among the values or not', () => {
    const found = allCrds().flatMap((crd) =>
      [...nodes(crd.spec.versions[0]?.schema.openAPIV3Schema ?? {}, crd.spec.names.kind)]
        .filter(([, node]) => node.nullable === true && node.enum !== undefined)
        .map(([path]) => path),
    );
    expect(found).toEqual([]);
  });

  it('refuse a range of more than 64 levels in zod (CEL cannot count them), naming the range', () => {
    expect(Sweep.safeParse({ range: { from: 1, to: 1000, factor: 1.05 } }).error?.issues[0]).toMatchObject({
      path: ['range'],
      message: 'the range has more than 64 levels; raise factor or narrow from..to',
    });
    expect(Sweep.safeParse({ range: { from: 1, to: 64, factor: 2 } }).success).toBe(true);
  });

  it('name the field of a sweep error in the operator InvalidSpec message', () => {
    const result = parseInferenceBenchmark({
      apiVersion: 'hpcbench.io/v1alpha1',
      kind: 'InferenceBenchmark',
      metadata: { name: 'x' },
      spec: {
        clusterRef: { name: 'c' },
        model: { name: 'gemma3:270m' },
        workload: { sweep: { range: { from: 1, to: 1000, factor: 1.05 } } },
      },
    });
    expect(result.ok ? [] : result.errors.map((e) => e.field)).toContain('spec.workload.sweep.range');
  });
});
