import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expectedCrdFiles } from './crd-files.js';

/**
 * Writes the CRD YAML generated from the zod schemas. `--check` writes nothing and exits 1 when a committed
 * file differs (for CI); the unit test crd-files.test.ts does the same check.
 *
 *   npx tsx crds/generate.ts [--check]
 */
const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const checkOnly = process.argv.includes('--check');

function readOrEmpty(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

let stale = 0;
for (const file of expectedCrdFiles()) {
  const target = join(repoRoot, file.path);
  if (readOrEmpty(target) === file.content) continue;
  stale += 1;
  if (checkOnly) {
    console.error(`stale: ${file.path}`);
    continue;
  }
  mkdirSync(dirname(target), { recursive: true });
  writeFileSync(target, file.content);
  console.log(`wrote ${file.path}`);
}
if (checkOnly && stale > 0) {
  console.error(`${stale} CRD file(s) differ from the zod schemas: run npx tsx crds/generate.ts`);
  process.exit(1);
}
if (stale === 0) console.log('CRD YAML is up to date');
