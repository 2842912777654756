/**
 * Expands a Slurm hostlist expression (`gpu[01-03,07],login1`, `rack[1-2]-n[1-2]`) into node names,
 * keeping zero padding. A malformed expression is returned as one name rather than throwing: a node list
 * is informational and must never break status reporting.
 */
export function expandHostlist(expression: string, limit = 10_000): string[] {
  const text = expression.trim();
  if (text === '' || text === '(null)' || text === 'None assigned') return [];
  const out: string[] = [];
  for (const part of splitTopLevel(text)) {
    for (const name of expandOne(part)) {
      out.push(name);
      if (out.length >= limit) return out;
    }
  }
  return out;
}

function splitTopLevel(text: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let current = '';
  for (const char of text) {
    if (char === '[') depth += 1;
    if (char === ']') depth -= 1;
    if (char === ',' && depth === 0) {
      if (current) parts.push(current);
      current = '';
    } else {
      current += char;
    }
  }
  if (current) parts.push(current);
  return parts;
}

function expandOne(part: string): string[] {
  const open = part.indexOf('[');
  if (open < 0) return [part];
  const close = part.indexOf(']', open);
  if (close < 0) return [part];
  const prefix = part.slice(0, open);
  const ranges = part.slice(open + 1, close);
  const rest = expandOne(part.slice(close + 1));
  const values: string[] = [];
  for (const range of ranges.split(',')) {
    const match = /^(\d+)(?:-(\d+))?$/.exec(range.trim());
    if (!match?.[1]) return [part];
    const from = match[1];
    const to = match[2] ?? from;
    const width = from.length;
    const start = Number.parseInt(from, 10);
    const end = Number.parseInt(to, 10);
    if (end < start || end - start > 100_000) return [part];
    for (let n = start; n <= end; n += 1) values.push(String(n).padStart(width, '0'));
  }
  return values.flatMap((value) => rest.map((suffix) => `${prefix}${value}${suffix}`));
}
