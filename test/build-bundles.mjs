#!/usr/bin/env node
// Bundles each program into ONE self-contained ESM file under dist/ (what the operator uploads, what the
// image runs). Entries are a table: an entry whose source does not exist yet is skipped, so the operator
// entry builds as soon as operator/main.ts lands. Arguments pick entries by name:
// `node test/build-bundles.mjs client-service` builds only dist/client-service.mjs.
import { chmodSync, existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

const ENTRIES = [
  { name: 'client-service', source: 'client-service/main.ts', out: 'dist/client-service.mjs' },
  { name: 'operator', source: 'operator/main.ts', out: 'dist/operator.mjs' },
  // The kubectl plugin: package.json's bin, and what the krew archive ships (kubectl-hpcbench/krew.yaml).
  {
    name: 'kubectl-hpcbench',
    source: 'kubectl-hpcbench/cli/main.ts',
    out: 'dist/kubectl-hpcbench.mjs',
    executable: true,
    // The console's page script, built for the browser and carried inside the plugin as a string.
    consoleApp: 'kubectl-hpcbench/console/web/main.ts',
  },
];
const wanted = process.argv.slice(2);
const unknown = wanted.filter((w) => !ENTRIES.some((e) => e.name === w));
if (unknown.length > 0) {
  console.error(`unknown entries: ${unknown.join(', ')} (known: ${ENTRIES.map((e) => e.name).join(', ')})`);
  process.exit(2);
}

// Some CommonJS dependencies call require() for node builtins and read __dirname (ssh2's agent.js); an ESM
// bundle has neither of its own.
const requireShim = [
  "import { createRequire as __iboCreateRequire } from 'node:module';",
  "import { fileURLToPath as __iboFileURLToPath } from 'node:url';",
  "import { dirname as __iboDirname } from 'node:path';",
  'const require = __iboCreateRequire(import.meta.url);',
  'const __filename = __iboFileURLToPath(import.meta.url);',
  'const __dirname = __iboDirname(__filename);',
].join('\n');

/** Same options as CONSOLE_APP_BUILD in kubectl-hpcbench/console/app-bundle.ts (the run-from-source path). */
async function buildConsoleApp(source) {
  const result = await build({
    entryPoints: [join(root, source)],
    bundle: true,
    platform: 'browser',
    format: 'iife',
    target: 'es2022',
    minify: true,
    write: false,
    legalComments: 'none',
    logLevel: 'warning',
  });
  const code = result.outputFiles[0]?.text ?? '';
  console.log(`built ${source} for the browser (${(code.length / 1024).toFixed(0)} KiB, inside the plugin)`);
  return code;
}

let built = 0;
for (const entry of ENTRIES) {
  if (wanted.length > 0 && !wanted.includes(entry.name)) continue;
  const source = join(root, entry.source);
  if (!existsSync(source)) {
    console.log(`skip ${entry.out}: ${entry.source} does not exist`);
    continue;
  }
  const define = entry.consoleApp
    ? { __HPCBENCH_CONSOLE_JS__: JSON.stringify(await buildConsoleApp(entry.consoleApp)) }
    : {};
  const result = await build({
    entryPoints: [source],
    define,
    outfile: join(root, entry.out),
    bundle: true,
    platform: 'node',
    target: 'node20.19',
    format: 'esm',
    sourcemap: false,
    // Whitespace and comments only: names stay readable in stack traces. Dropping the comments keeps the
    // source Latin-1, which V8 stores one byte per character; with a few "—" in comments the operator's
    // 8.6 MB bundle was held as a two-byte string of 17 MB (heap snapshot in bench:operator: idle RSS
    // 111 -> 99 MB, heap 41 -> 29 MB).
    minifyWhitespace: true,
    legalComments: 'eof',
    banner: { js: `#!/usr/bin/env node\n${requireShim}` },
    // Optional native addons that their packages fall back from (ssh2's cpu-features / sshcrypto).
    // esbuild: only the console's run-from-source path imports it, never reached in a bundle (define above).
    external: ['cpu-features', '*.node', 'esbuild'],
    logLevel: 'warning',
    metafile: true,
  });
  // kubectl finds a plugin by its executable name on PATH (kubectl-hpcbench): the bundle runs by its shebang.
  if (entry.executable) chmodSync(join(root, entry.out), 0o755);
  const bytes = Object.values(result.metafile.outputs).reduce((sum, o) => sum + o.bytes, 0);
  console.log(`built ${entry.out} (${(bytes / 1024).toFixed(0)} KiB)`);
  built++;
}
if (built === 0) process.exitCode = 1;
