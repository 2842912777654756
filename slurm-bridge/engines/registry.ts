import { llamacpp } from './llamacpp/index.js';
import { ollama } from './ollama/index.js';
import { sglang } from './sglang/index.js';
import type { EngineName, ServerEngine } from './types.js';
import { vllm } from './vllm/index.js';

/** Every engine, by the name `spec.server.engine` uses. A new engine is a folder and one line here. */
export const ENGINES: Readonly<Record<EngineName, ServerEngine>> = { ollama, vllm, sglang, llamacpp };

export function engineFor(name: EngineName): ServerEngine {
  return ENGINES[name];
}
