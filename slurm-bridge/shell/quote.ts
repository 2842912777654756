/**
 * The ONE way a value enters a remote shell command line.
 *
 * POSIX single quotes make every byte literal (no `$`, backtick, `\`, glob or newline is special inside
 * them); the only byte that cannot appear inside is `'` itself, so it closes the quote, emits `'` inside
 * double quotes, and reopens: `'` → `'"'"'`. The empty string becomes `''` so it stays one argument.
 * NUL cannot be carried by any shell argument, so it is refused rather than silently truncated.
 */
export function shellQuote(value: string): string {
  if (value.includes('\0')) throw new Error('a shell argument cannot contain a NUL byte');
  return `'${value.replaceAll("'", `'"'"'`)}'`;
}

/** Quotes each argument and joins them with spaces: `shellJoin(['ls', '-l', dir])`. */
export function shellJoin(args: readonly string[]): string {
  return args.map(shellQuote).join(' ');
}
