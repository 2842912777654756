import { z } from 'zod';

/** The parts of Ollama's API the sandbox tests and benchmarks read. */
export const TagsResponse = z.object({
  models: z.array(z.object({ name: z.string(), size: z.number() })),
});

export const GenerateResponse = z.object({
  response: z.string(),
  done: z.boolean(),
  eval_count: z.number().int(),
  eval_duration: z.number().int(),
  prompt_eval_count: z.number().int().optional(),
  total_duration: z.number().int(),
});
export type GenerateResponse = z.infer<typeof GenerateResponse>;

export async function listModels(baseUrl: string): Promise<string[]> {
  const response = await fetch(`${baseUrl}/api/tags`);
  if (!response.ok) throw new Error(`/api/tags answered ${response.status}`);
  return TagsResponse.parse(await response.json()).models.map((m) => m.name);
}

export interface GenerateRequest {
  model: string;
  prompt: string;
  maxTokens: number;
  seed?: number;
}

/** One non-streaming /api/generate call; Ollama's own counters say how fast it decoded. */
export async function generate(baseUrl: string, request: GenerateRequest): Promise<GenerateResponse> {
  const response = await fetch(`${baseUrl}/api/generate`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      model: request.model,
      prompt: request.prompt,
      stream: false,
      options: { num_predict: request.maxTokens, seed: request.seed ?? 1, temperature: 0.7 },
    }),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`/api/generate answered ${response.status}: ${text.slice(0, 300)}`);
  return GenerateResponse.parse(JSON.parse(text));
}

/** Decode speed of one response: eval_count / eval_duration (ns). */
export function decodeTokensPerSecond(r: GenerateResponse): number {
  return r.eval_duration > 0 ? r.eval_count / (r.eval_duration / 1e9) : Number.NaN;
}
