import { BankgateError } from './errors/bankgate-error.js';

/**
 * Structured log lines: the `Logger` interface every part of the core writes to, and the redaction every
 * sink applies. The sink is the runtime's (`bankgate/node`: pino on stderr); `createLineLogger` is the
 * portable one (JSON lines to any writer). Callers pass only names, ids and codes, never a token, a secret or a
 * header value; redaction is the last line of defence: members named like secrets are blanked and any
 * string that looks like a bearer token or a PEM is cut out. A line that belongs to an inbound request
 * carries its `requestId`, passed explicitly by the code that has it (or bound with `withFields`): no
 * AsyncLocalStorage, which on Node 20 puts a hook on every promise of the process (~5 µs per bank call).
 */
export interface Logger {
  info(event: string, fields?: Record<string, unknown>): void;
  warn(event: string, fields?: Record<string, unknown>): void;
  error(event: string, fields?: Record<string, unknown>): void;
  /** Detail an operator turns on with `BANKGATE_LOG_LEVEL=debug` (e.g. one line per successful bank call). Optional for custom loggers. */
  debug?(event: string, fields?: Record<string, unknown>): void;
}

const SECRET_PATTERN = /(bearer\s+)[A-Za-z0-9._~+/=-]+|-----BEGIN [A-Z ]+-----[\s\S]*?-----END [A-Z ]+-----|\b(eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*)/gi;
const SECRET_KEY = /token|secret|password|authorization|private|credential|cookie|signature|assertion|verifier/i;

/** Cuts bearer tokens, JWTs and PEM blocks out of a string. */
export function redact(text: string): string {
  return text.replace(SECRET_PATTERN, (_match, bearer?: string) => (bearer ? `${bearer}[redacted]` : '[redacted]'));
}

/** Cheap first look: only strings that could hold a bearer token, a JWT or a PEM go through the full pattern. */
const MAYBE_SECRET = /bearer|eyJ|-----BEGIN/i;

/** A copy of log fields with secret-named members blanked and secret-looking strings cut. */
export function scrub(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return MAYBE_SECRET.test(value) ? redact(value) : value;
  if (depth > 6 || typeof value !== 'object' || value === null) return value;
  if (Array.isArray(value)) return value.map((v) => scrub(v, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = SECRET_KEY.test(k) ? '[redacted]' : scrub(v, depth + 1);
  return out;
}

export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent';
export const LOG_LEVELS: readonly string[] = ['debug', 'info', 'warn', 'error', 'silent'];

const LEVEL_RANK: Readonly<Record<LogLevel, number>> = { debug: 10, info: 20, warn: 30, error: 40, silent: 99 };

/**
 * The portable sink: one JSON line per event (`{"level","time",…fields,"event"}`, the shape the Node sink
 * writes too), fields scrubbed, handed to `write` (e.g. `console.log` on an edge runtime, an array in tests).
 * Below `debug` level the logger has no `debug`, so callers skip building those lines (`log.debug?.(…)`).
 */
export function createLineLogger(write: (line: string) => void, level: LogLevel = 'info'): Logger {
  const emit = (lvl: Exclude<LogLevel, 'silent'>) =>
    LEVEL_RANK[lvl] < LEVEL_RANK[level]
      ? () => {}
      : (event: string, fields?: Record<string, unknown>) => {
          write(JSON.stringify({ level: lvl, time: new Date().toISOString(), ...(fields ? (scrub(fields) as Record<string, unknown>) : {}), event }));
        };
  return { ...(LEVEL_RANK.debug >= LEVEL_RANK[level] ? { debug: emit('debug') } : {}), info: emit('info'), warn: emit('warn'), error: emit('error') };
}

/** `BANKGATE_LOG_LEVEL` as a level (`info` when unset). */
export function logLevelFrom(value: string | undefined): LogLevel {
  if (value === undefined || value === '') return 'info';
  const level = value.trim().toLowerCase();
  if (LOG_LEVELS.includes(level)) return level as LogLevel;
  throw new BankgateError('config_invalid', { status: 500, detail: `BANKGATE_LOG_LEVEL=${JSON.stringify(value).slice(0, 40)} is not a log level: set it to one of ${LOG_LEVELS.join(', ')}, or unset it (info)` });
}

/** A logger that adds `fields` (e.g. `{ requestId }`) to every line; the line's own fields win on a clash. */
export function withFields(log: Logger, fields: Record<string, unknown>): Logger {
  const bound = (emit: ((event: string, fields?: Record<string, unknown>) => void) | undefined) =>
    emit && ((event: string, own?: Record<string, unknown>) => emit.call(log, event, own ? { ...fields, ...own } : fields));
  return { info: bound(log.info)!, warn: bound(log.warn)!, error: bound(log.error)!, ...(log.debug ? { debug: bound(log.debug)! } : {}) };
}

export const silentLogger: Logger = { info() {}, warn() {}, error() {} };
