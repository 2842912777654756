import type { ClusterSession } from '../../cluster/types.js';

/**
 * Pulls a model into a running Ollama in the background, so a reconcile never blocks on a multi-GB
 * download: it starts the pull once and afterwards only reads the latest progress line. One pull per key
 * (the run id); a failed pull stays failed until the run changes.
 */
export type PullState =
  | { readonly state: 'pulling'; readonly message: string }
  | { readonly state: 'done' }
  | { readonly state: 'failed'; readonly message: string };

interface PullLine {
  status?: string;
  error?: string;
  total?: number;
  completed?: number;
}

export class ModelPuller {
  private readonly pulls = new Map<string, PullState>();
  /** The pull in flight per key: a forgotten pull that still streams never writes its key back. */
  private readonly current = new Map<string, symbol>();

  get(key: string): PullState | undefined {
    return this.pulls.get(key);
  }

  forget(key: string): void {
    this.pulls.delete(key);
    this.current.delete(key);
  }

  /** Every pull whose key starts with `prefix` (every run of one benchmark). */
  forgetAll(prefix: string): void {
    for (const key of [...this.pulls.keys()]) if (key.startsWith(prefix)) this.forget(key);
  }

  get size(): number {
    return this.pulls.size;
  }

  /** Starts the pull unless one is known for `key`; returns the current state. */
  ensure(key: string, session: ClusterSession, ollamaUrl: string, model: string): PullState {
    const known = this.pulls.get(key);
    if (known) return known;
    const started: PullState = { state: 'pulling', message: `pulling ${model}: starting` };
    const pull = Symbol(key);
    this.pulls.set(key, started);
    this.current.set(key, pull);
    const update = (state: PullState): void => {
      if (this.current.get(key) === pull) this.pulls.set(key, state);
    };
    void this.pull(key, update, session, ollamaUrl, model).catch((error: unknown) => {
      update({
        state: 'failed',
        message: `pulling ${model} failed: ${error instanceof Error ? error.message : String(error)}`,
      });
    });
    return started;
  }

  private async pull(
    key: string,
    update: (state: PullState) => void,
    session: ClusterSession,
    ollamaUrl: string,
    model: string,
  ): Promise<void> {
    const response = await session.fetch(`${ollamaUrl}/api/pull`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model, stream: true }),
      timeoutMs: 6 * 60 * 60 * 1000,
    });
    if (!response.ok || !response.body) {
      const text = await response.text().catch(() => '');
      throw new Error(`Ollama answered ${response.status}: ${text.slice(0, 500)}`);
    }
    const decoder = new TextDecoder();
    let buffered = '';
    for await (const chunk of response.body) {
      buffered += decoder.decode(chunk as Uint8Array, { stream: true });
      let newline = buffered.indexOf('\n');
      while (newline >= 0) {
        const line = buffered.slice(0, newline).trim();
        buffered = buffered.slice(newline + 1);
        if (line !== '') this.onLine(update, model, line);
        newline = buffered.indexOf('\n');
      }
    }
    if (buffered.trim() !== '') this.onLine(update, model, buffered.trim());
    const last = this.pulls.get(key);
    if (last?.state === 'pulling') update({ state: 'done' });
  }

  private onLine(update: (state: PullState) => void, model: string, text: string): void {
    let line: PullLine;
    try {
      line = JSON.parse(text) as PullLine;
    } catch {
      return;
    }
    if (line.error) throw new Error(line.error);
    if (line.status === 'success') {
      update({ state: 'done' });
      return;
    }
    const percent =
      line.total && line.completed !== undefined
        ? ` ${Math.floor((100 * line.completed) / line.total)}%`
        : '';
    update({ state: 'pulling', message: `pulling ${model}: ${line.status ?? 'working'}${percent}` });
  }
}
