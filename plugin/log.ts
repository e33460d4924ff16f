import { writeSync } from 'node:fs';
import pino from 'pino';
import { BankgateError } from './errors/bankgate-error.js';

/**
 * Structured JSON log lines (pino). Callers pass only names, ids and codes, never a token, a secret or a
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

function scrub(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return MAYBE_SECRET.test(value) ? redact(value) : value;
  if (depth > 6 || typeof value !== 'object' || value === null) return value;
  if (Array.isArray(value)) return value.map((v) => scrub(v, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = SECRET_KEY.test(k) ? '[redacted]' : scrub(v, depth + 1);
  return out;
}

export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent';
const LOG_LEVELS: readonly string[] = ['debug', 'info', 'warn', 'error', 'silent'];

/**
 * The gateway's logger: pino, JSON lines to stderr (or to `write`, for tests), level from `BANKGATE_LOG_LEVEL`.
 * An unknown level throws `config_invalid` naming the variable and the levels there are.
 */
export function createJsonLogger(write?: (line: string) => void, level: LogLevel = logLevelFrom(process.env.BANKGATE_LOG_LEVEL)): Logger {
  const destination = write ? { write: (line: string) => write(line.endsWith('\n') ? line.slice(0, -1) : line) } : batchedStderr();
  const base = pino(
    {
      level,
      base: undefined,
      messageKey: 'event',
      timestamp: isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    destination,
  );
  const emit = (lvl: 'debug' | 'info' | 'warn' | 'error') => (event: string, fields?: Record<string, unknown>) => {
    if (!base.isLevelEnabled(lvl)) return;
    base[lvl](fields ? (scrub(fields) as Record<string, unknown>) : {}, event);
  };
  // No `debug` at all below debug level: callers skip building the line (`log.debug?.(…)`).
  return { ...(base.isLevelEnabled('debug') ? { debug: emit('debug') } : {}), info: emit('info'), warn: emit('warn'), error: emit('error') };
}

/**
 * stderr, written once per event-loop turn: a busy gateway logs a line per bank call, and a write per line
 * (a thread-pool round trip each) costs more than formatting the line. Nothing waits longer than the turn.
 */
function batchedStderr(): { write(line: string): void } {
  const stream = pino.destination({ dest: 2, sync: false });
  let pending = '';
  const flush = () => {
    const out = pending;
    pending = '';
    if (out) stream.write(out);
  };
  // pino flushes its stream at exit; lines of the last turn are written synchronously after it.
  process.once('exit', () => {
    if (pending) writeSync(2, pending);
  });
  return {
    write(line) {
      if (pending === '') setImmediate(flush);
      pending += line;
    },
  };
}

/** pino's ISO time, formatted once per millisecond rather than once per line. */
let lastMs = 0;
let lastTime = '';
function isoTime(): string {
  const now = Date.now();
  if (now !== lastMs) {
    lastMs = now;
    lastTime = `,"time":"${new Date(now).toISOString()}"`;
  }
  return lastTime;
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
