import { createWriteStream, type WriteStream } from 'node:fs';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { RequestRecord, RunStatus } from '../api-schema.js';
import { csvHeader, csvRow, jsonlRow } from './records.js';

/**
 * The run's files next to the job's logs: records.jsonl grows as requests finish (so a killed job still
 * leaves its data), records.csv and summary.json are written once at the end, atomically.
 */
export class RunFiles {
  private jsonl: WriteStream | null = null;

  constructor(readonly dir: string) {}

  async open(): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    this.jsonl = createWriteStream(join(this.dir, 'records.jsonl'), { flags: 'w' });
  }

  append(record: RequestRecord): void {
    this.jsonl?.write(jsonlRow(record));
  }

  async finish(records: readonly RequestRecord[], status: RunStatus): Promise<void> {
    const jsonl = this.jsonl;
    this.jsonl = null;
    if (jsonl !== null) await new Promise<void>((resolve) => jsonl.end(resolve));
    await writeAtomically(join(this.dir, 'records.csv'), csvHeader() + records.map(csvRow).join(''));
    await writeAtomically(join(this.dir, 'summary.json'), `${JSON.stringify(status, null, 2)}\n`);
  }
}

async function writeAtomically(path: string, text: string): Promise<void> {
  const tmp = `${path}.tmp-${process.pid}`;
  await writeFile(tmp, text);
  await rename(tmp, path);
}
