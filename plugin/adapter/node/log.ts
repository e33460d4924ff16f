import { writeSync } from 'node:fs';
import pino from 'pino';
import { logLevelFrom, scrub, type Logger, type LogLevel } from '../../log.js';

/**
 * The Node log sink: pino, JSON lines to stderr (or to `write`, for tests), level from `BANKGATE_LOG_LEVEL`.
 * Fields are scrubbed by the core's redaction (`scrub`). An unknown level throws `config_invalid` naming the
 * variable and the levels there are.
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
