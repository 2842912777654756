import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The console page's script. The plugin bundle carries it built (test/build-bundles.mjs builds web/main.ts
 * for the browser first and defines __HPCBENCH_CONSOLE_JS__ to it), so the shipped plugin needs nothing
 * beside itself. Run from source (tsx), it is built here with esbuild, a dev dependency, on first use.
 */

declare const __HPCBENCH_CONSOLE_JS__: string | undefined;

/** The browser build's options; test/build-bundles.mjs uses the same (it cannot import TypeScript). */
export const CONSOLE_APP_BUILD = {
  bundle: true,
  platform: 'browser',
  format: 'iife',
  target: 'es2022',
  minify: true,
  write: false,
  legalComments: 'none',
  logLevel: 'warning',
} as const;

export async function consoleAppJs(): Promise<string> {
  if (typeof __HPCBENCH_CONSOLE_JS__ === 'string') return __HPCBENCH_CONSOLE_JS__;
  const { build } = await import('esbuild');
  const entry = join(dirname(fileURLToPath(import.meta.url)), 'web', 'main.ts');
  const result = await build({ ...CONSOLE_APP_BUILD, entryPoints: [entry] });
  return result.outputFiles[0]?.text ?? '';
}
