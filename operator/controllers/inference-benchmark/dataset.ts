import { createHash } from 'node:crypto';
import { type DatasetFormat, MAX_DATASET_PROMPTS } from '../../../crds/index.js';

/**
 * workload.dataset, parsed and normalized (README "Datasets"). Pure: the step that reads the ConfigMap and
 * uploads the result is steps/dataset.ts.
 *
 * - jsonl: one JSON object per line, `{"prompt": "...", "maxTokens": 64}`; maxTokens optional; other fields
 *   are ignored; blank lines are skipped. Rows count from 1 over the non-blank lines' line numbers.
 * - sharegpt: a JSON array of `{"conversations": [{"from": "human", "value": "..."}, {"from": "gpt", ...}]}`.
 *   The first human turn (`human` or `user`) is the prompt; the first reference answer after it (`gpt` or
 *   `assistant`) bounds maxTokens by the TOKEN ESTIMATE below. Rows count from 1 in array order.
 *
 * Token estimate: ceil(characters / 4) of the reference answer (the usual rule of thumb for English with
 * BPE tokenizers; the real counts come back from the engine and are reported in results.tokens), at least
 * 1, capped by workload.maxTokens. A row without a reference answer gets workload.maxTokens.
 *
 * The output is JSON lines of `{prompt, maxTokens}`, every maxTokens within workload.maxTokens: what the
 * client service reads as workload.promptsFile.
 */

/** Characters per token of the estimate. */
export const CHARS_PER_TOKEN = 4;
/** Longest prompt of a row, as workload.prompt allows. */
export const MAX_DATASET_PROMPT_CHARS = 65_536;

export interface DatasetRow {
  prompt: string;
  maxTokens: number;
}

export type ParsedDataset = { ok: true; rows: DatasetRow[] } | { ok: false; message: string };

/** ceil(characters / 4), at least 1, at most `cap`. */
export function estimateTokens(text: string, cap: number): number {
  return Math.min(cap, Math.max(1, Math.ceil([...text].length / CHARS_PER_TOKEN)));
}

export function parseDataset(text: string, format: DatasetFormat, maxTokens: number): ParsedDataset {
  try {
    const rows = format === 'jsonl' ? jsonlRows(text, maxTokens) : shareGptRows(text, maxTokens);
    if (rows.length === 0) return { ok: false, message: 'the dataset is empty: no rows' };
    if (rows.length > MAX_DATASET_PROMPTS)
      return { ok: false, message: `the dataset has ${rows.length} rows, more than ${MAX_DATASET_PROMPTS}` };
    return { ok: true, rows };
  } catch (error) {
    if (error instanceof DatasetError) return { ok: false, message: error.message };
    throw error;
  }
}

/** The normalized prompts file (JSON lines) and its sha256. */
export function normalizedPrompts(rows: readonly DatasetRow[]): { bytes: Buffer; sha256: string } {
  const bytes = Buffer.from(rows.map((row) => `${JSON.stringify(row)}\n`).join(''), 'utf8');
  return { bytes, sha256: sha256Hex(bytes) };
}

export function sha256Hex(bytes: Buffer | string): string {
  return createHash('sha256').update(bytes).digest('hex');
}

class DatasetError extends Error {
  override readonly name = 'DatasetError';
}

const fail = (message: string): never => {
  throw new DatasetError(message);
};

function jsonlRows(text: string, cap: number): DatasetRow[] {
  const rows: DatasetRow[] = [];
  let row = 0;
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    row++;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (error) {
      fail(`row ${row}: not JSON (${jsonErrorText(error)})`);
    }
    if (!isObject(value)) fail(`row ${row}: not a JSON object`);
    const object = value as Record<string, unknown>;
    const prompt = promptOf(object.prompt, row, 'no prompt');
    const own = object.maxTokens;
    if (own !== undefined && !(Number.isInteger(own) && (own as number) > 0))
      fail(`row ${row}: maxTokens must be a positive whole number`);
    rows.push({ prompt, maxTokens: Math.min(cap, (own as number | undefined) ?? cap) });
  }
  return rows;
}

const HUMAN = new Set(['human', 'user']);
const ANSWER = new Set(['gpt', 'assistant', 'chatgpt']);

function shareGptRows(text: string, cap: number): DatasetRow[] {
  if (text.trim() === '') return [];
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    fail(notJson(text, error));
  }
  if (!Array.isArray(value))
    fail(
      'the ShareGPT layout is a JSON array of {"conversations": [{"from": "human", "value": "..."}, ...]}',
    );
  return (value as unknown[]).map((entry, i) => {
    const row = i + 1;
    const turns = isObject(entry) ? (entry as Record<string, unknown>).conversations : undefined;
    if (!Array.isArray(turns)) fail(`row ${row}: no conversations array`);
    const list = turns as unknown[];
    const humanAt = list.findIndex((t) => isObject(t) && HUMAN.has(String((t as { from?: unknown }).from)));
    if (humanAt < 0) fail(`row ${row}: no human turn`);
    const prompt = promptOf((list[humanAt] as { value?: unknown }).value, row, 'the human turn has no text');
    const answer = list
      .slice(humanAt + 1)
      .find((t) => isObject(t) && ANSWER.has(String((t as { from?: unknown }).from))) as
      | { value?: unknown }
      | undefined;
    const reference = typeof answer?.value === 'string' ? answer.value : undefined;
    return { prompt, maxTokens: reference === undefined ? cap : estimateTokens(reference, cap) };
  });
}

function promptOf(value: unknown, row: number, missing: string): string {
  if (typeof value !== 'string' || value.trim() === '') return fail(`row ${row}: ${missing}`);
  if ([...value].length > MAX_DATASET_PROMPT_CHARS)
    fail(`row ${row}: the prompt is longer than ${MAX_DATASET_PROMPT_CHARS} characters`);
  return value;
}

function isObject(value: unknown): boolean {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function jsonErrorText(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).slice(0, 200);
}

/**
 * A ShareGPT file that is not JSON, named by the row (array element) and line where JSON.parse stopped:
 * `row 3 (line 12): not JSON (...)`.
 */
function notJson(text: string, error: unknown): string {
  const message = jsonErrorText(error);
  const at = /position (\d+)/.exec(message);
  if (!at) return `not JSON (${message})`;
  const position = Number(at[1]);
  const line = text.slice(0, position).split('\n').length;
  const row = rowAt(text, position);
  return `${row === undefined ? '' : `row ${row} `}(line ${line}): not JSON (${message})`;
}

/** Which element of the top-level array holds `position`: commas at depth 1 before it, plus one. */
export function rowAt(text: string, position: number): number | undefined {
  if (!text.trimStart().startsWith('[')) return undefined;
  let depth = 0;
  let commas = 0;
  let inString = false;
  let escaped = false;
  for (let i = 0; i < position && i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (escaped) escaped = false;
      else if (c === '\\') escaped = true;
      else if (c === '"') inString = false;
      continue;
    }
    if (c === '"') inString = true;
    else if (c === '[' || c === '{') depth++;
    else if (c === ']' || c === '}') depth--;
    else if (c === ',' && depth === 1) commas++;
  }
  return depth >= 1 ? commas + 1 : undefined;
}
