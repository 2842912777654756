import type { z } from 'zod';

/** A 4xx the client can fix; `field` names the input at fault (for example `body.workload.clients`). */
export class HttpError extends Error {
  constructor(
    readonly statusCode: number,
    readonly reason: string,
    message: string,
    readonly field?: string,
  ) {
    super(message);
  }
}

/** Parses one part of a request; a failure is a 400 that names the first offending field. */
export function parseInput<Schema extends z.ZodType>(
  schema: Schema,
  value: unknown,
  where: 'body' | 'params' | 'query',
): z.infer<Schema> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const at = [where, ...(issue?.path ?? []).map(String)].join('.');
  // A strict object names the unknown key itself: `field` points at it, as the apiserver's
  // `unknown field "spec.workload.clinets"` does.
  if (issue?.code === 'unrecognized_keys') {
    const keys = issue.keys.map((k) => JSON.stringify(k)).join(', ');
    const field = `${at}.${issue.keys[0] ?? ''}`;
    const noun = issue.keys.length === 1 ? 'key' : 'keys';
    throw new HttpError(400, 'BadRequest', `${field}: unrecognized ${noun} ${keys} at ${at}`, field);
  }
  throw new HttpError(400, 'BadRequest', `${at}: ${issue?.message ?? 'invalid'}`, at);
}
