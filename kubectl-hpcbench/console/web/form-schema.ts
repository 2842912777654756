/**
 * The wizard's form, generated from the CRD's OpenAPI v3 schema of `spec`: one field per property, the
 * schema's description as help, and back from the inputs' text to the object the apiserver checks. Pure (no
 * DOM), so the unit tests run it in node. Fields left empty are left out, so the CRD's defaults apply.
 */

export interface SchemaNode {
  type?: string;
  description?: string;
  properties?: Record<string, SchemaNode>;
  required?: string[];
  items?: SchemaNode;
  enum?: unknown[];
  default?: unknown;
  minimum?: number;
  maximum?: number;
  pattern?: string;
  additionalProperties?: SchemaNode | boolean;
  'x-kubernetes-preserve-unknown-fields'?: boolean;
}

interface FieldBase {
  /** Dotted path from the object's root, e.g. spec.workload.clients: the name of the input. */
  path: string;
  key: string;
  description: string;
  required: boolean;
}

export type ScalarKind = 'text' | 'integer' | 'number' | 'boolean' | 'enum' | 'lines' | 'yaml';

export type Field =
  | (FieldBase & { kind: 'group'; children: Field[] })
  | (FieldBase & {
      kind: ScalarKind;
      options?: string[];
      placeholder?: string;
      minimum?: number;
      maximum?: number;
    });

function placeholderOf(node: SchemaNode): string | undefined {
  if (node.default === undefined) return undefined;
  return typeof node.default === 'object' ? JSON.stringify(node.default) : String(node.default);
}

function scalarKind(node: SchemaNode): ScalarKind {
  if (Array.isArray(node.enum) && node.enum.length > 0) return 'enum';
  switch (node.type) {
    case 'string':
      return 'text';
    case 'integer':
      return 'integer';
    case 'number':
      return 'number';
    case 'boolean':
      return 'boolean';
    case 'array':
      return node.items?.type === 'string' && !node.items.enum ? 'lines' : 'yaml';
    default:
      return 'yaml';
  }
}

export function fieldsOf(schema: SchemaNode, path: string): Field[] {
  const required = new Set(schema.required ?? []);
  return Object.entries(schema.properties ?? {}).map(([key, node]): Field => {
    const base = {
      path: `${path}.${key}`,
      key,
      description: node.description ?? '',
      required: required.has(key),
    };
    const isGroup =
      node.type === 'object' &&
      node.properties !== undefined &&
      Object.keys(node.properties).length > 0 &&
      !node['x-kubernetes-preserve-unknown-fields'];
    if (isGroup) return { ...base, kind: 'group', children: fieldsOf(node, base.path) };
    const kind = scalarKind(node);
    const placeholder = placeholderOf(node);
    return {
      ...base,
      kind,
      ...(kind === 'enum' ? { options: (node.enum ?? []).map(String) } : {}),
      ...(placeholder !== undefined ? { placeholder } : {}),
      ...(node.minimum !== undefined ? { minimum: node.minimum } : {}),
      ...(node.maximum !== undefined ? { maximum: node.maximum } : {}),
    };
  });
}

export function* leaves(fields: readonly Field[]): Generator<Exclude<Field, { kind: 'group' }>> {
  for (const field of fields) {
    if (field.kind === 'group') yield* leaves(field.children);
    else yield field;
  }
}

export interface FieldError {
  path: string;
  message: string;
}

function setPath(target: Record<string, unknown>, path: string, value: unknown): void {
  const keys = path.split('.');
  let node = target;
  for (const key of keys.slice(0, -1)) {
    const next = node[key];
    if (typeof next !== 'object' || next === null) node[key] = {};
    node = node[key] as Record<string, unknown>;
  }
  node[keys[keys.length - 1] ?? ''] = value;
}

/**
 * The object the inputs describe. `values` maps a field's path to its input's text; `parseYaml` reads the
 * YAML fields (lists of objects). A value that cannot be read is named by its field, and left out.
 */
export function buildObject(
  fields: readonly Field[],
  values: ReadonlyMap<string, string>,
  parseYaml: (text: string) => unknown,
): { object: Record<string, unknown>; errors: FieldError[] } {
  const object: Record<string, unknown> = {};
  const errors: FieldError[] = [];
  for (const field of leaves(fields)) {
    const text = (values.get(field.path) ?? '').trim();
    if (text === '') continue;
    switch (field.kind) {
      case 'integer':
      case 'number': {
        const value = Number(text);
        if (!Number.isFinite(value) || (field.kind === 'integer' && !Number.isInteger(value)))
          errors.push({
            path: field.path,
            message: `must be ${field.kind === 'integer' ? 'a whole number' : 'a number'}, got "${text}"`,
          });
        else setPath(object, field.path, value);
        break;
      }
      case 'boolean':
        setPath(object, field.path, text === 'true');
        break;
      case 'lines':
        setPath(
          object,
          field.path,
          text
            .split('\n')
            .map((line) => line.trim())
            .filter((line) => line.length > 0),
        );
        break;
      case 'yaml':
        try {
          setPath(object, field.path, parseYaml(text));
        } catch (error) {
          errors.push({
            path: field.path,
            message: `is not YAML: ${error instanceof Error ? error.message : String(error)}`,
          });
        }
        break;
      default:
        setPath(object, field.path, text);
    }
  }
  return { object, errors };
}
