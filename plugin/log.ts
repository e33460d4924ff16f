import pino from 'pino';
import { requestContext } from './observability/request-context.js';

/**
 * Structured JSON log lines (pino). Callers pass only names, ids and codes, never a token, a secret or a
 * header value; redaction is the last line of defence: members named like secrets are blanked and any
 * string that looks like a bearer token or a PEM is cut out. Every line carries the request id of the
 * inbound request it belongs to.
 */
export interface Logger {
  info(event: string, fields?: Record<string, unknown>): void;
  warn(event: string, fields?: Record<string, unknown>): void;
  error(event: string, fields?: Record<string, unknown>): void;
}

const SECRET_PATTERN = /(bearer\s+)[A-Za-z0-9._~+/=-]+|-----BEGIN [A-Z ]+-----[\s\S]*?-----END [A-Z ]+-----|\b(eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*)/gi;
const SECRET_KEY = /token|secret|password|authorization|private|credential|cookie|signature|assertion|verifier/i;

/** Cuts bearer tokens, JWTs and PEM blocks out of a string. */
export function redact(text: string): string {
  return text.replace(SECRET_PATTERN, (_match, bearer?: string) => (bearer ? `${bearer}[redacted]` : '[redacted]'));
}

function scrub(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return redact(value);
  if (depth > 6 || typeof value !== 'object' || value === null) return value;
  if (Array.isArray(value)) return value.map((v) => scrub(v, depth + 1));
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, SECRET_KEY.test(k) ? '[redacted]' : scrub(v, depth + 1)]));
}

export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent';

/**
 * The gateway's logger: pino, JSON lines to stderr (or to `write`, for tests), level from `BANKGATE_LOG_LEVEL`.
 */
export function createJsonLogger(write?: (line: string) => void, level: LogLevel = (process.env.BANKGATE_LOG_LEVEL as LogLevel | undefined) ?? 'info'): Logger {
  const destination = write ? { write: (line: string) => write(line.endsWith('\n') ? line.slice(0, -1) : line) } : pino.destination({ dest: 2, sync: false });
  const base = pino(
    {
      level,
      base: undefined,
      messageKey: 'event',
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      mixin: () => {
        const context = requestContext.getStore();
        return context ? { requestId: context.requestId } : {};
      },
    },
    destination,
  );
  const emit = (lvl: 'info' | 'warn' | 'error') => (event: string, fields?: Record<string, unknown>) => {
    if (!base.isLevelEnabled(lvl)) return;
    base[lvl](fields ? (scrub(fields) as Record<string, unknown>) : {}, event);
  };
  return { info: emit('info'), warn: emit('warn'), error: emit('error') };
}

export const silentLogger: Logger = { info() {}, warn() {}, error() {} };
