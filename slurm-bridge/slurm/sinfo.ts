import { shellQuote } from '../shell/quote.js';
import { FIELD_SEPARATOR, splitWithLimit } from './fields.js';
import { expandHostlist } from './hostlist.js';

const PARTITION_MARKER = '@P';
const PARTITION_FIELDS = ['%P', '%a', '%D', '%C', '%m', '%l', '%G', '%N'] as const;
const VERSION_MARK = '@@IBO-VERSION ';

export interface PartitionInfo {
  readonly name: string;
  readonly isDefault: boolean;
  /** `up`, `down`, `drain` or `inactive`. */
  readonly state: string;
  readonly nodes: number;
  readonly nodeNames: readonly string[];
  readonly cpusTotal: number;
  readonly cpusIdle: number;
  readonly cpusAllocated: number;
  /** Smallest memory of a node in the partition, in MB (Slurm's `8000+` means "at least"). */
  readonly memoryPerNodeMB: number | null;
  readonly maxTime: string | null;
  readonly gres: readonly string[];
}

export interface ClusterInfo {
  readonly slurmVersion: string | null;
  readonly partitions: readonly PartitionInfo[];
}

/** Version and partitions in ONE round trip. */
export function buildClusterInfoCommand(): string {
  const format = [PARTITION_MARKER, ...PARTITION_FIELDS].join(FIELD_SEPARATOR);
  return `printf '${VERSION_MARK}'; sinfo --version; sinfo --noheader --format=${shellQuote(format)}`;
}

export function parseSlurmVersion(text: string): string | null {
  return /(\d+\.\d+\.\d+)/.exec(text)?.[1] ?? null;
}

function int(raw: string | undefined): number {
  const value = Number.parseInt(raw ?? '', 10);
  return Number.isFinite(value) ? value : 0;
}

/**
 * sinfo prints one line per group of identical nodes, so a partition with mixed nodes spans several
 * lines: they are summed (counts) and minimised (memory).
 */
export function parseClusterInfo(stdout: string): ClusterInfo {
  let version: string | null = null;
  const byName = new Map<string, PartitionInfo>();
  for (const line of stdout.split('\n')) {
    if (line.startsWith(VERSION_MARK)) {
      version = parseSlurmVersion(line);
      continue;
    }
    if (!line.startsWith(`${PARTITION_MARKER}${FIELD_SEPARATOR}`)) continue;
    const parts = splitWithLimit(line, FIELD_SEPARATOR, PARTITION_FIELDS.length + 1);
    if (!parts) continue;
    const [, rawName = '', state = '', nodes, cpus = '', memory = '', maxTime, gres = '', nodeList = ''] =
      parts;
    const isDefault = rawName.endsWith('*');
    const name = rawName.replace(/\*$/, '');
    const [allocated, idle, , total] = cpus.split('/').map(int);
    const memoryMB = /^\d+/.test(memory) ? int(memory) : null;
    const previous = byName.get(name);
    const gresList = gres && gres !== '(null)' ? gres.split(',') : [];
    const nodeNames = expandHostlist(nodeList);
    byName.set(name, {
      name,
      isDefault: isDefault || (previous?.isDefault ?? false),
      state,
      nodes: int(nodes) + (previous?.nodes ?? 0),
      nodeNames: [...(previous?.nodeNames ?? []), ...nodeNames],
      cpusTotal: (total ?? 0) + (previous?.cpusTotal ?? 0),
      cpusIdle: (idle ?? 0) + (previous?.cpusIdle ?? 0),
      cpusAllocated: (allocated ?? 0) + (previous?.cpusAllocated ?? 0),
      memoryPerNodeMB:
        previous?.memoryPerNodeMB != null && memoryMB !== null
          ? Math.min(previous.memoryPerNodeMB, memoryMB)
          : (memoryMB ?? previous?.memoryPerNodeMB ?? null),
      maxTime: maxTime && maxTime !== 'infinite' ? maxTime : null,
      gres: [...new Set([...(previous?.gres ?? []), ...gresList])],
    });
  }
  return { slurmVersion: version, partitions: [...byName.values()] };
}
