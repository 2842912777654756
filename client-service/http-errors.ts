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
  const field = [where, ...(issue?.path ?? []).map(String)].join('.');
  throw new HttpError(400, 'BadRequest', `${field}: ${issue?.message ?? 'invalid'}`, field);
}
