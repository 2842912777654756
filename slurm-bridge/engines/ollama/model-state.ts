import { z } from 'zod';
import type { ModelPreparation } from '../types.js';

const PullLine = z.object({
  status: z.string().optional(),
  error: z.string().optional(),
  digest: z.string().optional(),
  total: z.number().optional(),
  completed: z.number().optional(),
});

/**
 * The Ollama job's state file (Ollama's own pull progress lines, or the job's `checking`/`ready`) as a
 * sentence a person reads; a failed pull keeps Ollama's error, which names what is wrong.
 */
export function describeModelState(model: string, text: string): ModelPreparation | undefined {
  if (!text.trim()) return undefined;
  let line: z.infer<typeof PullLine>;
  try {
    line = PullLine.parse(JSON.parse(text));
  } catch {
    return { failed: false, message: `preparing ${model}` };
  }
  if (line.error) return { failed: true, message: `pulling ${model} failed: ${line.error.slice(0, 1000)}` };
  if (line.status === 'checking') return { failed: false, message: `looking for ${model}` };
  if (line.status === 'ready' || line.status === 'success')
    return { failed: false, message: `${model} is there; loading it` };
  const mb = (bytes: number) => (bytes / 1_000_000).toFixed(0);
  const progress =
    line.total && line.completed !== undefined
      ? `: ${Math.floor((100 * line.completed) / line.total)}% (${mb(line.completed)} of ${mb(line.total)} MB)`
      : '';
  return { failed: false, message: `pulling ${model}: ${line.status ?? 'in progress'}${progress}` };
}
