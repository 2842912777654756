import { z } from 'zod';
import { shellQuote } from '../shell/quote.js';

/**
 * Text for a job script that mixes literals with values only known when the job runs (host name, port,
 * job id). Literals go through shellQuote; a variable is emitted as `"${NAME}"` after its name is checked,
 * so neither can change the command's shape.
 */

export const SHELL_VARIABLE = /^[A-Za-z_][A-Za-z0-9_]*$/;

const ShellVariable = z.object({ shellVar: z.string().regex(SHELL_VARIABLE) });
const ShellPart = z.union([z.string(), ShellVariable]);
/** Literal text, a variable, or a concatenation of both (`[{ shellVar: 'HOST' }, ':9100']`). */
export const ShellText = z.union([ShellPart, z.array(ShellPart).min(1)]);
export type ShellText = z.input<typeof ShellText>;

/** One shell word: `['--listen=', { shellVar: 'HOST' }, ':9090']` → `'--listen='"${HOST}"':9090'`. */
export function shellWord(text: ShellText): string {
  const parts = Array.isArray(text) ? text : [text];
  return parts
    .map((part) => {
      if (typeof part === 'string') return shellQuote(part);
      if (!SHELL_VARIABLE.test(part.shellVar)) throw new Error(`not a shell variable name: ${part.shellVar}`);
      return `"\${${part.shellVar}}"`;
    })
    .join('');
}
