import {
  cleanupTrap,
  exportLine,
  HOST_VAR,
  moduleLoadLines,
  registerJobTarget,
  scriptPreamble,
  superviseTail,
} from '../scripts/common.js';
import { nodeEnvironmentLines, serverEnvironmentPath } from '../scripts/environment.js';
import { dcgmBlock, nodeExporterBlock } from '../scripts/exporters.js';
import { type RuntimeSpec, runtimeCommand, type Word } from '../scripts/runtime.js';
import { shellQuote } from '../shell/quote.js';
import type { ModelPreparation, ParsedEngineJobInput } from './types.js';

/** `"$IBO_HOST"` and `"$IBO_PORT"` as argv words: shell variables the script itself sets. */
export const HOST_WORD: Word = { raw: `"$${HOST_VAR}"` };
export const PORT_WORD: Word = { raw: '"$IBO_PORT"' };

/** How an OpenAI-compatible engine is started and watched; the skeleton does the rest. */
export interface OpenAiServerLaunch {
  /** "vLLM": in the script's header and its log lines. */
  readonly title: string;
  /** The program and its arguments, without the runtime prefix (host and port as HOST_WORD/PORT_WORD). */
  readonly argv: readonly Word[];
  /** Environment the engine needs (its weights cache), set before the user's env. */
  readonly env: Readonly<Record<string, string>>;
  /** Answers 200 once the model is loaded and the server takes requests. */
  readonly healthPath: string;
  /** Prometheus metrics of the engine itself (queue, running requests, KV cache); undefined: none. */
  readonly metricsPath?: string;
  /** The engine's default image for apptainer/singularity (the spec's image wins). */
  readonly image: string;
  /** A host folder the server must see besides the work dir and the cache: where model.path lies. */
  readonly modelDir?: string;
}

/** Vendors take minutes to load tens of GB of weights; the job gives up after this by default. */
export const DEFAULT_OPENAI_READY_SECONDS = 3_600;

/**
 * The batch script of an OpenAI-compatible server (vLLM, SGLang, llama.cpp): like the Ollama job, it picks
 * its own port, starts the server bound to the node name, and writes its endpoint last, once the health
 * endpoint answers. Loading the model is the engine's own start-up (it downloads into the shared cache), so
 * the state file says `loading`, then `ready`, or the error: the server exited, or it never answered. The
 * engine's /metrics is registered for Prometheus (file_sd kind `engine`) beside node-exporter and DCGM.
 */
export function openAiServerJobScript(opts: ParsedEngineJobInput, launch: OpenAiServerLaunch): string {
  const labels = { benchmark: opts.benchmark, model: opts.model.name };
  const target = (kind: 'node' | 'dcgm' | 'engine', portVar: string) =>
    registerJobTarget({ targetsDir: opts.targetsDir, kind, role: 'server', portVar, labels });
  const node = target('node', 'IBO_NODE_EXPORTER_PORT');
  const dcgm = target('dcgm', 'IBO_DCGM_PORT');
  const metrics = target('engine', 'IBO_PORT');
  const state = shellQuote(opts.modelStateFile);
  const timeout = opts.readyTimeoutSeconds ?? DEFAULT_OPENAI_READY_SECONDS;
  const url = `"http://$${HOST_VAR}:$IBO_PORT${launch.healthPath}"`;
  return [
    scriptPreamble(`${launch.title} server for benchmark ${opts.benchmark}`),
    moduleLoadLines(opts.modules),
    cleanupTrap([
      `rm -f -- ${shellQuote(opts.endpointFile)}`,
      node.unregister,
      dcgm.unregister,
      metrics.unregister,
    ]),
    'IBO_PORT=$(ibo_free_port)',
    ...Object.entries(launch.env).map(([name, value]) => exportLine(name, value)),
    ...Object.entries(opts.env).map(([name, value]) => exportLine(name, value)),
    tokenLines(opts.hfTokenFile),
    `ibo_write_atomic ${state} '{"status":"loading"}'`,
    `${runtimeCommand(runtimeOf(opts, launch), launch.argv)} &`,
    'IBO_SERVER_PID=$!',
    waitHealthy(url, timeout, state, launch.title),
    nodeExporterBlock(node.register),
    dcgmBlock(opts.gpus > 0, dcgm.register),
    launch.metricsPath ? metrics.register : '',
    `ibo_write_atomic ${state} '{"status":"ready"}'`,
    nodeEnvironmentLines(serverEnvironmentPath(opts.endpointFile)),
    // Last: the endpoint file tells the operator the server answers with its model loaded.
    `ibo_write_atomic ${shellQuote(opts.endpointFile)} "$${HOST_VAR}:$IBO_PORT"`,
    `echo ${shellQuote(`${launch.title} listens on`)} "$${HOST_VAR}:$IBO_PORT"`,
    superviseTail(),
  ].join('\n');
}

/** The spec's runtime with the engine's image, GPUs, and the folders it reads bound in. */
function runtimeOf(opts: ParsedEngineJobInput, launch: OpenAiServerLaunch): RuntimeSpec {
  return {
    ...opts.runtime,
    image: opts.runtime.image ?? launch.image,
    binds: [...opts.runtime.binds, opts.cacheDir, ...(launch.modelDir ? [launch.modelDir] : [])],
    gpu: opts.gpus > 0,
  };
}

/** `--revision` for a Hugging Face repository (weights at a path have none). */
export function revisionArgs(model: ParsedEngineJobInput['model']): string[] {
  return model.revision && !model.path ? ['--revision', model.revision] : [];
}

/**
 * The Hugging Face token reaches the engine as HF_TOKEN, read from its 0600 file at run time: it is never
 * in the script, in argv, or in the job's environment as SLURM records it.
 */
function tokenLines(file: string | undefined): string {
  if (!file) return '';
  const quoted = shellQuote(file);
  return [
    `if [ -r ${quoted} ]; then`,
    `  HF_TOKEN=$(< ${quoted})`,
    '  export HF_TOKEN',
    'else',
    `  echo "the Hugging Face token file "${quoted}" is missing" >&2`,
    '  exit 3',
    'fi',
  ].join('\n');
}

/**
 * Polls the health endpoint until it answers 200. A server that exits first, or never answers, leaves the
 * reason in the state file and ends the job with exit code 3; the operator names it with the log's tail.
 */
function waitHealthy(url: string, timeoutSeconds: number, state: string, title: string): string {
  const error = (text: string) => shellQuote(JSON.stringify({ error: text }));
  return [
    `IBO_DEADLINE=$(( SECONDS + ${timeoutSeconds} ))`,
    `until [ "$(curl -sS -o /dev/null -w '%{http_code}' --max-time 5 ${url} 2>/dev/null || true)" = 200 ]; do`,
    '  if ! kill -0 "$IBO_SERVER_PID" 2>/dev/null; then',
    '    IBO_STATUS=0',
    '    wait "$IBO_SERVER_PID" || IBO_STATUS=$?',
    `    ibo_write_atomic ${state} "$(printf '{"error":"%s exited with status %s before it answered"}' ${shellQuote(title)} "$IBO_STATUS")"`,
    `    echo ${shellQuote(`${title} exited before it answered`)} >&2`,
    '    exit 3',
    '  fi',
    '  if (( SECONDS >= IBO_DEADLINE )); then',
    `    ibo_write_atomic ${state} ${error(`${title} did not answer within ${timeoutSeconds} s`)}`,
    `    echo ${shellQuote(`${title} did not answer within ${timeoutSeconds} s`)} >&2`,
    '    exit 3',
    '  fi',
    '  sleep 1',
    'done',
    '',
  ].join('\n');
}

/** The skeleton's state file (`loading`, `ready`, or `{error}`) as a sentence. */
export function describeServerState(
  title: string,
  model: string,
  text: string,
): ModelPreparation | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof parsed !== 'object' || parsed === null) return undefined;
  const { status, error } = parsed as { status?: unknown; error?: unknown };
  if (typeof error === 'string')
    return { failed: true, message: `${title} could not serve ${model}: ${error.slice(0, 1000)}` };
  if (status === 'ready') return { failed: false, message: `${model} is loaded; ${title} answers` };
  if (status === 'loading')
    return { failed: false, message: `${title} is loading ${model} (downloading it first when not cached)` };
  return undefined;
}
