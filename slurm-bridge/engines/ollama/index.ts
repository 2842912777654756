import { EngineJobInput, type ServerEngine } from '../types.js';
import { ollamaJobScript } from './job-script.js';
import { describeModelState } from './model-state.js';

/** Ollama's pinned image for the apptainer and singularity runtimes. */
export const OLLAMA_IMAGE = 'docker://ollama/ollama';

/**
 * Ollama: `ollama serve`, the model pulled and loaded by the job itself through Ollama's API (progress in
 * the state file), and both protocols: its native NDJSON API or its OpenAI-compatible endpoints.
 */
export const ollama: ServerEngine = {
  name: 'ollama',
  title: 'Ollama',
  protocols: ['ollama', 'openai'],
  defaultImage: () => OLLAMA_IMAGE,
  // Ollama's own default: models the site already pulled are found, none pulled twice.
  defaultCacheDir: (home) => `${home}/.ollama/models`,
  jobScript(input) {
    const opts = EngineJobInput.parse(input);
    return ollamaJobScript({
      endpointFile: opts.endpointFile,
      modelStateFile: opts.modelStateFile,
      targetsDir: opts.targetsDir,
      modelsDir: opts.cacheDir,
      numParallel: opts.numParallel,
      maxLoadedModels: opts.maxLoadedModels,
      env: opts.env,
      runtime: { ...opts.runtime, gpu: opts.gpus > 0 },
      modules: opts.modules,
      benchmark: opts.benchmark,
      model: opts.model.name,
      insecureRegistry: opts.insecureRegistry,
      ...(opts.readyTimeoutSeconds ? { readyTimeoutSeconds: opts.readyTimeoutSeconds } : {}),
    });
  },
  describeModelState,
};
