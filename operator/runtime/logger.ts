import { type Logger, pino } from 'pino';

/**
 * JSON logs on stdout. Redaction is the last line of defence: code must not log secrets at all, but if a
 * Secret, a kubeconfig or a token ever reaches a log call under a usual key, pino censors it.
 */
export const REDACTED_PATHS = [
  'privateKey',
  '*.privateKey',
  'token',
  '*.token',
  'password',
  '*.password',
  'authorization',
  '*.authorization',
  'headers.authorization',
  '*.headers.authorization',
  'data',
  '*.data',
  'stringData',
  '*.stringData',
];

export function createLogger(options: { level?: string; name?: string } = {}): Logger {
  return pino({
    name: options.name ?? 'inference-benchmark-operator',
    level: options.level ?? process.env.LOG_LEVEL ?? 'info',
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    formatters: { level: (label) => ({ level: label }) },
    timestamp: pino.stdTimeFunctions.isoTime,
  });
}

/** The child logger every reconcile gets: keyed by object, so `jq 'select(.name=="x")'` finds its story. */
export function reconcileLogger(base: Logger, controller: string, namespace: string, name: string): Logger {
  return base.child({ controller, namespace, name });
}
