import type { z } from 'zod';
import { InferenceBenchmark } from './inference-benchmark.js';
import { SlurmCluster } from './slurm-cluster.js';

/** One validation problem, named by the field's path as kubectl prints it (`spec.workload.clients`). */
export interface FieldError {
  field: string;
  message: string;
}

export type ParseResult<T> =
  | { ok: true; value: T }
  | {
      ok: false;
      errors: FieldError[];
      /** All errors in one line, for a condition message or an Event. */
      message: string;
    };

/** `['spec', 'workload', 'prompts', 0]` → `spec.workload.prompts[0]`. */
export function fieldPath(path: readonly PropertyKey[]): string {
  let text = '';
  for (const segment of path) {
    if (typeof segment === 'number') text += `[${segment}]`;
    else text += text === '' ? String(segment) : `.${String(segment)}`;
  }
  return text === '' ? '(root)' : text;
}

export function fieldErrors(error: z.ZodError): FieldError[] {
  return error.issues.flatMap((issue): FieldError[] => {
    if (issue.code === 'unrecognized_keys') {
      return issue.keys.map((key) => ({ field: fieldPath([...issue.path, key]), message: 'unknown field' }));
    }
    return [{ field: fieldPath(issue.path), message: issue.message }];
  });
}

export function formatFieldErrors(errors: readonly FieldError[]): string {
  return errors.map((e) => `${e.field}: ${e.message}`).join('; ');
}

/** Validates `input` and fills defaults; never throws on bad input. */
export function parseWith<S extends z.ZodType>(schema: S, input: unknown): ParseResult<z.output<S>> {
  const result = schema.safeParse(input);
  if (result.success) return { ok: true, value: result.data };
  const errors = fieldErrors(result.error);
  return { ok: false, errors, message: formatFieldErrors(errors) };
}

/** Re-validates an InferenceBenchmark as read from the apiserver (or a file). */
export function parseInferenceBenchmark(input: unknown): ParseResult<InferenceBenchmark> {
  return parseWith(InferenceBenchmark, input);
}

export function parseSlurmCluster(input: unknown): ParseResult<SlurmCluster> {
  return parseWith(SlurmCluster, input);
}
