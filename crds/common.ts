import { z } from 'zod';

/** API group and version of every kind in this folder. */
export const GROUP = 'hpcbench.io';
export const VERSION = 'v1alpha1';
export const API_VERSION = `${GROUP}/${VERSION}`;
/** `kubectl get hpcbench` lists both kinds. */
export const CATEGORY = 'hpcbench';

/**
 * A validation rule that both the apiserver (as CEL, in `x-kubernetes-validations`) and zod enforce.
 * Both sides must agree, because the operator re-validates with zod what the apiserver already accepted: a
 * rule that only zod knew would turn an accepted object into `InvalidSpec`; a rule only CEL knew would let
 * the operator trust values the API never promised. `holds` is the same rule written in TypeScript.
 */
export interface DualRule<T> {
  /** CEL expression evaluated by the apiserver with `self` bound to the value. */
  rule: string;
  /** Shown to the user by `kubectl apply` and by the operator's InvalidSpec condition. */
  message: string;
  /** JSONPath (from `self`) of the field the message is about, e.g. `.ratePerSecond`. */
  fieldPath?: string;
  reason?: 'FieldValueInvalid' | 'FieldValueRequired' | 'FieldValueForbidden' | 'FieldValueDuplicate';
  holds: (value: T) => boolean;
}

interface CelValidation {
  rule: string;
  message: string;
  fieldPath?: string;
  reason?: string;
}

const CEL_META_KEY = 'x-kubernetes-validations';

function existingValidations(schema: z.ZodType): CelValidation[] {
  const found = schema.meta()?.[CEL_META_KEY];
  return Array.isArray(found) ? (found as CelValidation[]) : [];
}

/** Attaches rules to a schema: as zod refinements and as CEL validations in the generated CRD. */
export function withRules<S extends z.ZodType>(schema: S, rules: DualRule<z.output<S>>[]): S {
  let refined: z.ZodType = schema;
  for (const rule of rules) {
    const path = rule.fieldPath ? rule.fieldPath.replace(/^\./, '').split('.') : [];
    refined = refined.refine((value) => rule.holds(value as z.output<S>), { message: rule.message, path });
  }
  const validations: CelValidation[] = rules.map(({ rule, message, fieldPath, reason }) => ({
    rule,
    message,
    ...(fieldPath ? { fieldPath } : {}),
    ...(reason ? { reason } : {}),
  }));
  return refined.meta({
    ...schema.meta(),
    [CEL_META_KEY]: [...existingValidations(schema), ...validations],
  }) as S;
}

/**
 * Makes an object field optional with, as its default, the object its own field defaults give. The apiserver
 * checks a CRD default against the CEL rules WITHOUT first applying the nested defaults, so a bare `{}` default
 * fails rules that read defaulted children; the full object passes, and zod fills the very same value. A
 * function, so every parse gets its own copy to mutate.
 */
export function defaultedObject<S extends z.ZodType>(schema: S) {
  return schema.default(() => schema.parse({}) as z.util.NoUndefined<z.output<S>>);
}

/**
 * A string that must match `pattern`, checked by a CEL rule (`self.matches`) instead of the OpenAPI `pattern`
 * keyword, so `kubectl apply` prints `message` rather than a raw regex. The regex is the same for both sides
 * (the subset RE2 and JavaScript agree on: no lookaround, no backreferences).
 */
export function matching<S extends z.ZodType<string>>(schema: S, pattern: string, message: string): S {
  if (pattern.includes("'"))
    throw new Error(`pattern ${pattern} cannot hold a single quote (CEL raw string)`);
  const regex = new RegExp(pattern);
  return withRules(schema, [
    { rule: `self.matches(r'${pattern}')`, message, holds: (text) => regex.test(text) },
  ]);
}

// --- SLURM time limits -------------------------------------------------------------------------------------

/**
 * The time formats sbatch's `--time` accepts: `MM`, `MM:SS`, `HH:MM:SS`, `D-HH`, `D-HH:MM`, `D-HH:MM:SS`.
 * Zero, `INFINITE` and `UNLIMITED` are left out on purpose: a benchmark job must end by itself. Minutes and
 * seconds after a colon are 00–59, hours after a day are 0–23 and days at most 365, so a typo like `1:75:00` is refused here
 * instead of being reinterpreted by Slurm.
 */
export const SLURM_TIME_PATTERN =
  '^(\\d{1,5}|\\d{1,5}:[0-5]\\d|\\d{1,4}:[0-5]\\d:[0-5]\\d|([0-2]?\\d{1,2}|3[0-5]\\d|36[0-5])-([01]?\\d|2[0-3])(:[0-5]\\d(:[0-5]\\d)?)?)$';
const SLURM_TIME_REGEX = new RegExp(SLURM_TIME_PATTERN);

/** Seconds of a SLURM time limit, or null when the text is not one. */
export function slurmTimeToSeconds(text: string): number | null {
  if (!SLURM_TIME_REGEX.test(text)) return null;
  const [daysPart, clockPart] = text.includes('-') ? text.split('-', 2) : [undefined, text];
  const fields = (clockPart ?? '').split(':').map(Number);
  let seconds: number;
  if (daysPart !== undefined) {
    // D-HH, D-HH:MM, D-HH:MM:SS
    const [hours = 0, minutes = 0, secs = 0] = fields;
    seconds = Number(daysPart) * 86_400 + hours * 3600 + minutes * 60 + secs;
  } else if (fields.length === 1) {
    seconds = (fields[0] ?? 0) * 60; // MM
  } else if (fields.length === 2) {
    seconds = (fields[0] ?? 0) * 60 + (fields[1] ?? 0); // MM:SS
  } else {
    const [hours = 0, minutes = 0, secs = 0] = fields; // HH:MM:SS
    seconds = hours * 3600 + minutes * 60 + secs;
  }
  return seconds;
}

/** A SLURM time limit; more than zero, at most 365 days when written with days. */
export const SlurmTime = withRules(
  matching(
    z.string().max(16),
    SLURM_TIME_PATTERN,
    'must be a SLURM time limit: MM, MM:SS, HH:MM:SS, D-HH, D-HH:MM or D-HH:MM:SS (at most 365 days; minutes and seconds below 60)',
  ),
  [
    {
      // Only `0`, `00:00`, `0:00:00`… describe zero: every digit is 0. CEL cannot parse the time, but it can
      // see that.
      rule: "!self.matches('^[0:-]+$')",
      message: 'must be longer than zero (SLURM reads 0 as no limit)',
      holds: (text) => !/^[0:-]+$/.test(text),
    },
  ],
);

// --- Names that reach a SLURM or shell command line ---------------------------------------------------------
// Values are always passed through shellQuote; these patterns are a second wall and give users an early,
// readable error instead of a confusing sbatch failure.

/** SLURM partition, account and QOS names: letters, digits, `_`, `.`, `-`; no leading `-` (option injection). */
export const SLURM_NAME_PATTERN = '^[A-Za-z0-9_][A-Za-z0-9_.-]*$';
export const SlurmName = matching(
  z.string().min(1).max(64),
  SLURM_NAME_PATTERN,
  'must contain only letters, digits, "_", "." and "-", and not start with "-"',
);

/**
 * Ollama model names: `[registry[:port]/][namespace/]name[:tag]`, e.g. `llama2`, `gemma3:270m`,
 * `hf.co/bartowski/Llama-3.2-1B-Instruct-GGUF:Q4_K_M`, `127.0.0.1:5000/library/gemma3:270m`. A port belongs
 * to a registry host, so it needs a path after it.
 */
export const MODEL_NAME_PATTERN =
  '^([A-Za-z0-9][A-Za-z0-9.-]*:[0-9]{1,5}/)?[A-Za-z0-9][A-Za-z0-9_.-]*(/[A-Za-z0-9][A-Za-z0-9_.-]*)*(:[A-Za-z0-9_][A-Za-z0-9_.-]*)?$';
export const ModelName = matching(
  z.string().min(1).max(200),
  MODEL_NAME_PATTERN,
  'must look like name[:tag] or namespace/name[:tag] with letters, digits, "_", ".", "-"',
);

/**
 * Container images: an OCI reference (`ollama/ollama:0.24.0`, `registry.example/ollama@sha256:…`), an
 * Apptainer URI (`docker://ollama/ollama:0.24.0`, `oras://…`) or an absolute path to a `.sif` file.
 */
export const IMAGE_PATTERN =
  '^((docker|docker-archive|oras|library|shub)://|/)?[A-Za-z0-9][A-Za-z0-9_./:@+-]*$';
export const ImageReference = matching(
  z.string().min(1).max(512),
  IMAGE_PATTERN,
  'must be an image reference (registry/name:tag, name@sha256:…, docker://…, oras://…) or an absolute .sif path, without spaces or shell characters',
);

/** Environment variable names as POSIX shells accept them. */
export const ENV_NAME_PATTERN = '^[A-Za-z_][A-Za-z0-9_]*$';

/** Environment module names for `module load`, e.g. `env/release/2024.1`, `Apptainer/1.3.6-GCCcore-13.3.0`. */
export const MODULE_NAME_PATTERN = '^[A-Za-z0-9_][A-Za-z0-9_./+-]*$';

/** A Kubernetes object name in the same namespace (DNS-1123 subdomain). */
export const DNS_SUBDOMAIN_PATTERN = '^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$';
export const ObjectName = z.string().min(1).max(253).regex(new RegExp(DNS_SUBDOMAIN_PATTERN), {
  message: 'must be a lowercase DNS-1123 name (letters, digits, "-", ".")',
});

/** A key inside a Secret's data. */
export const SECRET_KEY_PATTERN = '^[-._a-zA-Z0-9]+$';
export const SecretKey = z
  .string()
  .min(1)
  .max(253)
  .regex(new RegExp(SECRET_KEY_PATTERN), { message: 'must be a Secret key: letters, digits, "-", "_", "."' });

/** RFC 3339 time as Kubernetes writes it (metav1.Time). */
export const Timestamp = z.iso.datetime({ offset: true });

/** `host:port` of a service on the cluster's network, as a job wrote it to its endpoint file. */
export const HOST_PORT_PATTERN = '^[A-Za-z0-9_.:\\[\\]-]+:[0-9]{1,5}$';
export const HostPort = z
  .string()
  .max(300)
  .regex(new RegExp(HOST_PORT_PATTERN), { message: 'must be host:port' });

// --- Kubernetes shapes -----------------------------------------------------------------------------------------

/**
 * metav1.Condition, with the same limits as upstream so the operator cannot write what the API would refuse.
 */
export const Condition = z
  .object({
    type: z
      .string()
      .max(316)
      .regex(
        /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])$/,
      )
      .describe('Type of condition in CamelCase, e.g. Ready or BenchmarkComplete.'),
    status: z.enum(['True', 'False', 'Unknown']).describe('Status of the condition: True, False or Unknown.'),
    observedGeneration: z
      .number()
      .int()
      .min(0)
      .optional()
      .describe('metadata.generation of the object when the condition was set.'),
    lastTransitionTime: Timestamp.describe('Last time the status changed (not the reason or message).'),
    reason: z
      .string()
      .min(1)
      .max(1024)
      .regex(/^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$/)
      .describe('Programmatic CamelCase identifier of the last transition, e.g. JobPending.'),
    message: z.string().max(32768).describe('Human-readable details of the last transition; may be empty.'),
  })
  .describe('One aspect of the current state (metav1.Condition).');
export type Condition = z.infer<typeof Condition>;

/** Conditions keyed by type, as `kubectl wait --for=condition=…` and server-side apply expect. */
export const Conditions = z
  .array(Condition)
  .max(32)
  .meta({ 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['type'] })
  .refine((list) => new Set(list.map((c) => c.type)).size === list.length, {
    message: 'condition types must be unique',
  })
  .describe('Latest observations of the object, one per type.');

/**
 * The metadata fields the operator reads. Everything else is kept (loose) because the apiserver owns
 * metadata and may add fields.
 */
export const ObjectMeta = z.looseObject({
  name: z.string().optional(),
  namespace: z.string().optional(),
  uid: z.string().optional(),
  generation: z.number().int().optional(),
  resourceVersion: z.string().optional(),
  creationTimestamp: z.string().optional(),
  deletionTimestamp: z.string().optional(),
  labels: z.record(z.string(), z.string()).optional(),
  annotations: z.record(z.string(), z.string()).optional(),
  finalizers: z.array(z.string()).optional(),
});
export type ObjectMeta = z.infer<typeof ObjectMeta>;
