import type { ApiRefusal } from '../refusal.js';
/** The console server's JSON API (../server.ts), as the page calls it. Writes carry the console's header. */

export class ApiError extends Error {
  constructor(readonly refusal: ApiRefusal) {
    super(refusal.message);
  }
}

async function answer<T>(response: Response): Promise<T> {
  const type = response.headers.get('content-type') ?? '';
  if (response.ok) return (type.includes('json') ? await response.json() : await response.text()) as T;
  if (type.includes('json')) throw new ApiError((await response.json()) as ApiRefusal);
  throw new ApiError({
    status: response.status,
    reason: response.statusText,
    message: (await response.text()).trim() || `HTTP ${response.status}`,
    causes: [],
  });
}

export async function getJson<T>(path: string): Promise<T> {
  return answer<T>(await fetch(path, { credentials: 'same-origin' }));
}

export async function getText(path: string): Promise<string> {
  return answer<string>(await fetch(path, { credentials: 'same-origin' }));
}

export async function send<T>(method: 'POST' | 'DELETE', path: string, body?: unknown): Promise<T> {
  return answer<T>(
    await fetch(path, {
      method,
      credentials: 'same-origin',
      headers: {
        'x-hpcbench-console': '1',
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    }),
  );
}

export const nsPath = (namespace: string) => `/api/namespaces/${encodeURIComponent(namespace)}`;
