import { createWriteStream, type WriteStream } from 'node:fs';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type {
  RequestRecord,
  RunStatus,
  RunSummary,
  Saturation,
  SloEvaluation,
  StageSummary,
} from '../api-schema.js';
import { csvHeader, csvRow, jsonlRow } from './records.js';
import type { StagePlan } from './stage-plan.js';
import type { RepeatReport } from './stage-summary.js';

/** stages.json: every level in full, beside the compact `stages` of the run's answer. */
export interface StagesFile {
  runId: string;
  stages: StageSummary[];
  saturation: Saturation;
  /** Per level: what ran (every default resolved) and its figures pooled over its repeats. */
  levels: { plan: StagePlan; summary: RunSummary | null; slo: SloEvaluation | null }[];
  /** Every finished repeat of every level, in full. */
  repeats: RepeatReport[];
}

/**
 * The run's files next to the job's logs: records.jsonl grows as requests finish (so a killed job still
 * leaves its data); stages.json is rewritten after each level; records.csv and summary.json are written
 * once at the end. Every file but records.jsonl is written atomically. Records carry their stage and
 * repeat.
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

  async writeStages(stages: StagesFile): Promise<void> {
    await writeAtomically(join(this.dir, 'stages.json'), `${JSON.stringify(stages, null, 2)}\n`);
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
