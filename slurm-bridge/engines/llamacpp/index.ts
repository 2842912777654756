import { posix } from 'node:path';
import type { Word } from '../../scripts/runtime.js';
import { describeServerState, HOST_WORD, openAiServerJobScript, PORT_WORD } from '../openai-server.js';
import { EngineJobInput, type ServerEngine } from '../types.js';

/** ggml-org's server images; llama-server sits in /app, not on the PATH. */
export const LLAMACPP_IMAGE = 'docker://ghcr.io/ggml-org/llama.cpp:server';
export const LLAMACPP_CUDA_IMAGE = 'docker://ghcr.io/ggml-org/llama.cpp:server-cuda';

/**
 * llama.cpp's OpenAI-compatible `llama-server`: a GGUF file on the cluster (`-m`) or one fetched from
 * Hugging Face into LLAMA_CACHE (`--hf-repo` + `--hf-file`), `--parallel` slots, metrics on. Natively the
 * program is `llama-server` on the PATH (a module, a build, or the sandbox's stand-in).
 */
export const llamacpp: ServerEngine = {
  name: 'llamacpp',
  title: 'llama.cpp server',
  protocols: ['openai'],
  defaultImage: (gpu) => (gpu ? LLAMACPP_CUDA_IMAGE : LLAMACPP_IMAGE),
  defaultCacheDir: (home) => `${home}/.cache/llama.cpp`,
  jobScript(input) {
    const opts = EngineJobInput.parse(input);
    const { model } = opts;
    const native = opts.runtime.runtime === 'native';
    const source: Word[] = model.path
      ? ['--model', model.path]
      : ['--hf-repo', model.name, ...(model.file ? ['--hf-file', model.file] : [])];
    const argv: Word[] = [
      native ? 'llama-server' : '/app/llama-server',
      ...source,
      '--alias',
      model.name,
      '--host',
      HOST_WORD,
      '--port',
      PORT_WORD,
      '--parallel',
      String(opts.numParallel),
      '--metrics',
      ...(opts.gpus > 0 ? ['--n-gpu-layers', '999'] : []),
      ...opts.args,
    ];
    return openAiServerJobScript(opts, {
      title: 'llama.cpp server',
      argv,
      env: { LLAMA_CACHE: opts.cacheDir },
      // llama-server answers 503 to every path while it loads; llama-cpp-python has no /health.
      healthPath: '/v1/models',
      metricsPath: '/metrics',
      image: opts.gpus > 0 ? LLAMACPP_CUDA_IMAGE : LLAMACPP_IMAGE,
      ...(model.path ? { modelDir: posix.dirname(model.path) } : {}),
    });
  },
  describeModelState: (model, text) => describeServerState('llama.cpp server', model, text),
};
