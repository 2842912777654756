import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { benchmarkSpecSchema } from './kube-api.js';
import { buildObject, type Field, fieldsOf, leaves, type SchemaNode } from './web/form-schema.js';

const spec = benchmarkSpecSchema() as SchemaNode;
const fields = fieldsOf(spec, 'spec');
const byPath = new Map([...leaves(fields)].map((f) => [f.path, f]));

describe('the wizard form generated from the CRD schema', () => {
  it('has a field for every leaf of spec, with its description as help', () => {
    expect(byPath.get('spec.workload.clients')).toMatchObject({ kind: 'integer', minimum: 1 });
    expect(byPath.get('spec.clusterRef.name')).toMatchObject({ kind: 'text', required: true });
    expect(byPath.get('spec.server.engine')).toMatchObject({
      kind: 'enum',
      options: ['ollama', 'vllm', 'sglang', 'llamacpp'],
    });
    expect(byPath.get('spec.workload.prompts')?.kind).toBe('lines');
    expect(byPath.get('spec.server.env')?.kind).toBe('yaml');
    for (const field of byPath.values()) expect(field.description, field.path).not.toBe('');
  });

  it('marks the required groups', () => {
    const required = fields.filter((f: Field) => f.required).map((f) => f.key);
    expect(required).toEqual(expect.arrayContaining(['clusterRef', 'model']));
  });

  it('builds the object from the inputs, leaving empty fields to the defaults', () => {
    const values = new Map([
      ['spec.clusterRef.name', 'sandbox'],
      ['spec.model.name', 'gemma3:270m'],
      ['spec.workload.clients', '4'],
      ['spec.workload.prompts', 'one\n\n two '],
      ['spec.retainResults', 'true'],
      ['spec.server.env', '- name: OLLAMA_DEBUG\n  value: "1"'],
      ['spec.workload.maxTokens', ''],
    ]);
    const { object, errors } = buildObject(fields, values, parse);
    expect(errors).toEqual([]);
    expect(object).toEqual({
      spec: {
        clusterRef: { name: 'sandbox' },
        model: { name: 'gemma3:270m' },
        workload: { clients: 4, prompts: ['one', 'two'] },
        retainResults: true,
        server: { env: [{ name: 'OLLAMA_DEBUG', value: '1' }] },
      },
    });
  });

  it('names the field whose text cannot be read, and leaves it out', () => {
    const { object, errors } = buildObject(
      fields,
      new Map([
        ['spec.workload.clients', '2.5'],
        ['spec.server.env', '- [unclosed'],
      ]),
      parse,
    );
    expect(errors.map((e) => e.path)).toEqual(['spec.workload.clients', 'spec.server.env']);
    expect(object).toEqual({});
  });
});
