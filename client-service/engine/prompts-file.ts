import { readFile } from 'node:fs/promises';
import { type PromptRow, PromptRow as PromptRowSchema } from '../api-schema.js';

/** A prompts file larger than this is refused: the operator caps what it writes well below. */
export const MAX_PROMPTS_FILE_BYTES = 64 * 1024 * 1024;

/**
 * Reads workload.promptsFile: JSON lines of {prompt, maxTokens?} (blank lines skipped). Every error names
 * the file and the line, so a run that fails on it says where: `promptsFile /x.jsonl line 3: prompt: ...`.
 */
export async function readPromptsFile(path: string): Promise<PromptRow[]> {
  const text = await readFile(path, 'utf8').catch((error: NodeJS.ErrnoException) => {
    throw new Error(`promptsFile ${path}: ${error.code === 'ENOENT' ? 'no such file' : error.message}`);
  });
  if (Buffer.byteLength(text) > MAX_PROMPTS_FILE_BYTES)
    throw new Error(`promptsFile ${path}: larger than ${MAX_PROMPTS_FILE_BYTES} bytes`);
  return parsePromptRows(text, `promptsFile ${path}`);
}

/** The rows of a prompts file's text; `where` prefixes every error. */
export function parsePromptRows(text: string, where: string): PromptRow[] {
  const rows: PromptRow[] = [];
  for (const [i, line] of text.split('\n').entries()) {
    if (line.trim() === '') continue;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (error) {
      throw new Error(`${where} line ${i + 1}: not JSON (${(error as Error).message})`);
    }
    const row = PromptRowSchema.safeParse(value);
    if (!row.success) {
      const issue = row.error.issues[0];
      const field = issue?.path.join('.') || 'row';
      throw new Error(`${where} line ${i + 1}: ${field}: ${issue?.message ?? 'invalid'}`);
    }
    rows.push(row.data);
  }
  if (rows.length === 0) throw new Error(`${where}: no prompts`);
  return rows;
}
