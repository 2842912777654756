import { z } from 'zod';
import { shellQuote } from '../shell/quote.js';

/**
 * How a job starts a program: `native` runs a binary on PATH (the sandbox); `apptainer` and
 * `singularity` run it inside an image (docker://ollama/ollama, a .sif file), with `--nv` on GPU jobs and
 * explicit bind mounts for the folders the program must see.
 */
export const ContainerRuntime = z.enum(['native', 'apptainer', 'singularity']);
export type ContainerRuntime = z.infer<typeof ContainerRuntime>;

export const RuntimeSpec = z.object({
  runtime: ContainerRuntime.default('native'),
  /** Image for apptainer/singularity; ignored by native. */
  image: z.string().min(1).optional(),
  /** Host paths to bind (same path inside), e.g. the work dir and the model folder. */
  binds: z.array(z.string().startsWith('/')).default([]),
  gpu: z.boolean().default(false),
});
export type RuntimeSpec = z.input<typeof RuntimeSpec>;

/**
 * One command line (already quoted) that runs `argv` under the runtime. `argv` words are plain strings,
 * each passed through shellQuote, or `{ raw }` for text built from validated shell variables.
 */
export type Word = string | { readonly raw: string };

export function word(value: Word): string {
  return typeof value === 'string' ? shellQuote(value) : value.raw;
}

export function runtimeCommand(spec: RuntimeSpec, argv: readonly Word[]): string {
  const opts = RuntimeSpec.parse(spec);
  if (opts.runtime === 'native') return argv.map(word).join(' ');
  if (!opts.image) throw new Error(`runtime ${opts.runtime} needs an image`);
  const prefix: Word[] = [opts.runtime, 'exec'];
  if (opts.gpu) prefix.push('--nv');
  if (opts.binds.length > 0) prefix.push('--bind', [...new Set(opts.binds)].join(','));
  prefix.push(opts.image);
  return [...prefix, ...argv].map(word).join(' ');
}
