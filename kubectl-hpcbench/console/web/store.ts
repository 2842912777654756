import { nsPath } from './api.js';

/**
 * The page's live copy of one namespace: InferenceBenchmarks and SlurmClusters as the server's event stream
 * (list, then watch) reports them. Only what the page draws is typed here; the objects come from the
 * apiserver as they are.
 */

export interface Condition {
  type: string;
  status: string;
  reason?: string;
  message?: string;
  lastTransitionTime?: string;
}

export interface KubeObject {
  metadata: {
    name: string;
    namespace?: string;
    uid: string;
    resourceVersion?: string;
    creationTimestamp?: string;
    deletionTimestamp?: string;
  };
  spec?: Record<string, unknown>;
  status?: {
    phase?: string;
    conditions?: Condition[];
    progress?: {
      completedRequests: number;
      totalRequests: number;
      failedRequests?: number;
      display?: string;
    };
    display?: Record<string, string | undefined>;
    slurmJobs?: {
      role: string;
      id: string;
      state: string;
      reason?: string;
      node?: string;
      exitCode?: string;
    }[];
    resultsStore?: { configMap: string; recordsPath?: string; complete: boolean };
    results?: Record<string, unknown>;
    slurmVersion?: string;
    monitoring?: Record<string, unknown>;
    saturation?: Record<string, unknown>;
    [key: string]: unknown;
  };
}

type Plural = 'inferencebenchmarks' | 'slurmclusters';

export interface LiveState {
  benchmarks: Map<string, KubeObject>;
  clusters: Map<string, KubeObject>;
  refusals: Partial<Record<Plural, string>>;
  connected: boolean;
}

export class LiveNamespace {
  readonly state: LiveState = { benchmarks: new Map(), clusters: new Map(), refusals: {}, connected: false };
  private readonly source: EventSource;
  private readonly listeners = new Set<() => void>();
  private scheduled = false;

  constructor(readonly namespace: string) {
    this.source = new EventSource(`${nsPath(namespace)}/events`);
    this.source.addEventListener('open', () => {
      this.state.connected = true;
      this.changed();
    });
    this.source.addEventListener('error', () => {
      this.state.connected = false;
      this.changed();
    });
    this.on<{ plural: Plural; items: KubeObject[] }>('snapshot', ({ plural, items }) => {
      const map = this.mapOf(plural);
      map.clear();
      for (const item of items) map.set(item.metadata.name, item);
      delete this.state.refusals[plural];
    });
    this.on<{ plural: Plural; type: string; object: KubeObject }>('change', ({ plural, type, object }) => {
      const map = this.mapOf(plural);
      if (type === 'DELETED') map.delete(object.metadata.name);
      else map.set(object.metadata.name, object);
    });
    this.on<{ plural: Plural; reason: string; message: string }>('refusal', ({ plural, reason, message }) => {
      this.state.refusals[plural] = `${reason}: ${message}`;
    });
  }

  /** A server event's JSON data to `apply`, then one redraw. */
  private on<T>(event: string, apply: (data: T) => void): void {
    this.source.addEventListener(event, (message) => {
      apply(JSON.parse((message as MessageEvent<string>).data) as T);
      this.changed();
    });
  }

  private mapOf(plural: Plural): Map<string, KubeObject> {
    return plural === 'slurmclusters' ? this.state.clusters : this.state.benchmarks;
  }

  /** Listeners run once per animation frame however many events arrived in it. */
  private changed(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    requestAnimationFrame(() => {
      this.scheduled = false;
      for (const listener of this.listeners) listener();
    });
  }

  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  close(): void {
    this.source.close();
    this.listeners.clear();
  }
}

export function condition(object: KubeObject, type: string): Condition | undefined {
  return object.status?.conditions?.find((c) => c.type === type);
}

/** The reason a benchmark waits, in one line: SLURM's pending reason of a job, or the Ready condition's. */
export function waitingReason(object: KubeObject): string {
  const pending = object.status?.slurmJobs?.find((job) => job.state === 'PENDING' && job.reason);
  if (pending) return `${pending.role} job ${pending.id}: ${pending.reason}`;
  const ready = condition(object, 'Ready');
  if (ready && ready.status !== 'True') return ready.message ?? ready.reason ?? '';
  return '';
}
