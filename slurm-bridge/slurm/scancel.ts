import { shellQuote } from '../shell/quote.js';
import { assertJobIds } from './squeue.js';

export function buildScancelCommand(ids: readonly string[]): string {
  assertJobIds(ids);
  return ['scancel', ...ids.map(shellQuote)].join(' ');
}

/**
 * scancel is already idempotent for unknown or finished ids (rc 0, silent), but some versions print
 * "already completing or completed" / "Invalid job id" with a non-zero code: those are success too.
 */
export function scancelFailureIsHarmless(stderr: string): boolean {
  const lines = stderr.split('\n').filter((line) => line.trim() !== '');
  return lines.every((line) =>
    /Invalid job id|already completing or completed|Job has already finished/i.test(line),
  );
}
