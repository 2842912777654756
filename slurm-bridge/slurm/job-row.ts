import { nullable, parseEpoch } from './fields.js';
import { expandHostlist } from './hostlist.js';
import type { JobInfo } from './job-info.js';
import { failureReason, parseJobState } from './states.js';

/** The columns squeue and sacct share, as the text they printed (`(null)`, `N/A`, epoch seconds). */
export interface JobRow {
  readonly id: string;
  readonly name: string;
  readonly state: string;
  readonly reason: string;
  readonly nodeList: string;
  readonly partition: string;
  readonly account: string;
  readonly user: string;
  readonly comment: string;
  readonly submitTime: string;
  readonly startTime: string;
  readonly endTime: string;
  readonly timeLimit: string;
}

/** One JobInfo from a table row of squeue or sacct; what only one of them knows comes in `known`. */
export function jobFromRow(
  row: JobRow,
  known: {
    readonly source: 'squeue' | 'sacct';
    readonly exitCode: number | null;
    readonly exitSignal: number | null;
    /** The node list once the tool's own placeholders are taken out. */
    readonly nodeList: string | null;
  },
): JobInfo {
  const state = parseJobState(row.state);
  const reason = nullable(row.reason);
  return {
    id: row.id.trim(),
    name: row.name,
    state,
    rawState: row.state,
    reason,
    nodeList: known.nodeList,
    nodes: known.nodeList ? expandHostlist(known.nodeList) : [],
    partition: nullable(row.partition),
    account: nullable(row.account),
    user: nullable(row.user),
    comment: nullable(row.comment),
    submitTime: parseEpoch(row.submitTime),
    startTime: parseEpoch(row.startTime),
    endTime: parseEpoch(row.endTime),
    timeLimit: nullable(row.timeLimit),
    exitCode: known.exitCode,
    exitSignal: known.exitSignal,
    stdoutPath: null,
    stderrPath: null,
    failureReason: failureReason(state, reason, known.exitCode),
    source: known.source,
  };
}
