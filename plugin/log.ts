/**
 * Structured JSON log lines. Callers pass only names, ids and codes, never a token, a secret or a header
 * value; `redact` is the last line of defence for anything that looks like a bearer token or a PEM.
 */
export interface Logger {
  info(event: string, fields?: Record<string, unknown>): void;
  warn(event: string, fields?: Record<string, unknown>): void;
  error(event: string, fields?: Record<string, unknown>): void;
}

const SECRET_PATTERN = /(bearer\s+)[A-Za-z0-9._~+/=-]+|-----BEGIN [A-Z ]+-----[\s\S]*?-----END [A-Z ]+-----/gi;

export function redact(text: string): string {
  return text.replace(SECRET_PATTERN, (_match, bearer?: string) => (bearer ? `${bearer}[redacted]` : '[redacted PEM]'));
}

export function createJsonLogger(write: (line: string) => void = (line) => process.stderr.write(line + '\n'), level: 'info' | 'warn' | 'error' | 'silent' = 'info'): Logger {
  const order = { info: 0, warn: 1, error: 2, silent: 3 };
  const emit = (lvl: 'info' | 'warn' | 'error') => (event: string, fields?: Record<string, unknown>) => {
    if (order[lvl] < order[level]) return;
    write(redact(JSON.stringify({ time: new Date().toISOString(), level: lvl, event, ...fields })));
  };
  return { info: emit('info'), warn: emit('warn'), error: emit('error') };
}

export const silentLogger: Logger = { info() {}, warn() {}, error() {} };
