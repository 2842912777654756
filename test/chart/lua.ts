import { execFileSync } from 'node:child_process';

/** JSON values as Argo CD hands them to Lua (gopher-lua converts the unstructured object the same way). */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

/** Writes a JSON value as a Lua 5.1 table constructor; `null` becomes an absent key, as in Argo CD. */
export function toLuaLiteral(value: JsonValue): string {
  if (value === null) return 'nil';
  if (typeof value === 'string') return luaString(value);
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (Array.isArray(value)) return `{${value.map(toLuaLiteral).join(', ')}}`;
  const fields = Object.entries(value)
    .filter(([, v]) => v !== null)
    .map(([k, v]) => `[${luaString(k)}] = ${toLuaLiteral(v)}`);
  return `{${fields.join(', ')}}`;
}

function luaString(text: string): string {
  // Decimal escapes are the one form Lua 5.1 reads for every byte.
  const bytes = Buffer.from(text, 'utf8');
  let out = '"';
  for (const byte of bytes) {
    const printable = byte >= 0x20 && byte < 0x7f && byte !== 0x22 && byte !== 0x5c;
    out += printable ? String.fromCharCode(byte) : `\\${byte}`;
  }
  return `${out}"`;
}

export interface HealthStatus {
  status: string;
  message: string;
}

/**
 * Runs an Argo CD health script the way Argo CD does: the object is the global `obj` and the chunk returns
 * `hs`. Uses the real Lua 5.1 interpreter (Argo CD's gopher-lua implements 5.1).
 */
export function runHealthCheck(scriptPath: string, object: JsonValue, lua = 'lua5.1'): HealthStatus {
  const program = [
    `obj = ${toLuaLiteral(object)}`,
    `local check = assert(loadfile(${luaString(scriptPath)}))`,
    'local hs = check()',
    'io.write(tostring(hs.status), "\\n", tostring(hs.message or ""))',
  ].join('\n');
  const out = execFileSync(lua, ['-'], { input: program, encoding: 'utf8' });
  const newline = out.indexOf('\n');
  return { status: out.slice(0, newline), message: out.slice(newline + 1) };
}
