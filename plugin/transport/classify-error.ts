/**
 * Turns any failure of a bank call into one `BankgateError` with a stable `bank_*` code and a detail that
 * names the bank, the cause and the fix. Matching is on error codes (Node's, OpenSSL's, undici's
 * `UND_ERR_*`, ours), found anywhere in the `cause` chain, since fetch wraps everything in
 * `TypeError: fetch failed`. Details are built from our own words and codes, never from header values.
 * The original error is kept as `cause`.
 */
import { BankgateError } from '../errors/bankgate-error.js';

export interface ClassifyContext {
  readonly bank: string;
  /** `https://host:port` called, when known: named in unreachable details. */
  readonly origin?: string;
  readonly timeouts?: { readonly [K in TimeoutSetting]?: number };
  readonly maxResponseBytes?: number;
  /** The error came out of a WHATWG fetch, whose network failures are bare `TypeError`s on edge runtimes. */
  readonly fromFetch?: boolean;
}

/** Server certificate problems: the bank's certificate is not one we trust for this host. */
const UNTRUSTED_SERVER_CERT = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'UNABLE_TO_GET_CRL',
  'UNABLE_TO_DECRYPT_CERT_SIGNATURE',
  'UNABLE_TO_DECODE_ISSUER_PUBLIC_KEY',
  'CERT_SIGNATURE_FAILURE',
  'CERT_NOT_YET_VALID',
  'CERT_HAS_EXPIRED',
  'CERT_REVOKED',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'CERT_CHAIN_TOO_LONG',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'INVALID_CA',
  'INVALID_PURPOSE',
  'PATH_LENGTH_EXCEEDED',
  'HOSTNAME_MISMATCH',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'ERR_TLS_CERT_ALTNAME_FORMAT',
]);

/** TLS alerts by which a server says it does not accept our client certificate (or got none). */
const CLIENT_CERT_ALERTS = new Set([
  'certificate required',
  'unknown ca',
  'bad certificate',
  'certificate unknown',
  'certificate revoked',
  'certificate expired',
  'unsupported certificate',
  'access denied',
  'handshake failure',
  'decrypt error',
]);

const UNREACHABLE = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EAI_FAIL',
  'EHOSTUNREACH',
  'EHOSTDOWN',
  'ENETUNREACH',
  'ENETDOWN',
  'ECONNRESET',
  'ECONNABORTED',
  'EPIPE',
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
  'ERR_BANKGATE_CONNECTION_CLOSED',
]);

type TimeoutSetting = 'connectMs' | 'headersMs' | 'bodyMs' | 'totalMs';
const TIMEOUTS: Record<string, { what: string; setting: TimeoutSetting }> = {
  UND_ERR_CONNECT_TIMEOUT: { what: 'did not complete the connection (TCP and TLS handshake)', setting: 'connectMs' },
  ETIMEDOUT: { what: 'did not complete the connection (TCP and TLS handshake)', setting: 'connectMs' },
  UND_ERR_HEADERS_TIMEOUT: { what: 'did not send response headers', setting: 'headersMs' },
  UND_ERR_BODY_TIMEOUT: { what: 'stopped sending the response body', setting: 'bodyMs' },
  ERR_BANKGATE_FETCH_TIMEOUT: { what: 'did not send its complete answer', setting: 'totalMs' },
  ERR_BANKGATE_ATTEMPT_DEADLINE: { what: 'did not send its complete answer', setting: 'totalMs' },
};
const SETTING_PATH: Record<TimeoutSetting, string> = {
  connectMs: 'transport.timeouts.connectMs',
  headersMs: 'transport.timeouts.headersMs',
  bodyMs: 'transport.timeouts.bodyMs',
  totalMs: 'transport.timeouts.totalMs',
};

const TOO_LARGE = new Set(['ERR_BANKGATE_RESPONSE_TOO_LARGE', 'UND_ERR_RES_EXCEEDED_MAX_SIZE']);

/** `ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED` → `certificate required`. */
export function tlsAlertName(code: string): string | undefined {
  const match = /^ERR_SSL_(?:SSLV3|TLSV1|TLSV13)_ALERT_(.+)$/.exec(code);
  return match?.[1]?.toLowerCase().replaceAll('_', ' ');
}

function codeOf(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

/** Errors of the cause chain, outermost first (AggregateError members included: happy-eyeballs connects). */
function chain(error: unknown): unknown[] {
  const seen: unknown[] = [];
  const queue = [error];
  while (queue.length > 0 && seen.length < 16) {
    const next = queue.shift();
    if (next === undefined || next === null || seen.includes(next)) continue;
    seen.push(next);
    if (next instanceof AggregateError) queue.push(...next.errors);
    if (next instanceof Error && next.cause !== undefined) queue.push(next.cause);
  }
  return seen;
}

/**
 * Lower rank wins: an outer `ECONNRESET` whose cause is a TLS alert is a TLS failure, and a fetch
 * `TypeError` wrapping a timeout is a timeout.
 */
function rank(code: string): number {
  if (UNTRUSTED_SERVER_CERT.has(code)) return 0;
  if (code.startsWith('ERR_SSL_')) return 1;
  if (code === 'ERR_BANKGATE_TLS_HANDSHAKE_REJECTED') return 2;
  if (code in TIMEOUTS) return 3;
  if (TOO_LARGE.has(code)) return 4;
  if (code === 'ERR_BANKGATE_UNDECODABLE_RESPONSE') return 4;
  if (UNREACHABLE.has(code)) return 5;
  return Number.POSITIVE_INFINITY;
}

function mostSpecific(errors: unknown[]): unknown {
  let best: unknown;
  let bestRank = Number.POSITIVE_INFINITY;
  for (const e of errors) {
    const code = codeOf(e);
    const r = code === undefined ? Number.POSITIVE_INFINITY : rank(code);
    if (r < bestRank) [best, bestRank] = [e, r];
  }
  return best;
}

const HANDSHAKE_DISCONNECT = 'before secure TLS connection was established';

export function classifyTransportError(error: unknown, context: ClassifyContext): BankgateError {
  if (error instanceof BankgateError) return error;
  const { bank } = context;
  const errors = chain(error);
  const found = mostSpecific(errors);
  const code = codeOf(found) ?? codeOf(errors.find((e) => codeOf(e) !== undefined));
  const make = (kind: ConstructorParameters<typeof BankgateError>[0], status: number, detail: string): BankgateError =>
    new BankgateError(kind, { status, bank, detail, cause: error, extra: code ? { reason: code } : undefined });
  const mtls = `banks.${bank}.mtls`;

  if (code !== undefined && UNTRUSTED_SERVER_CERT.has(code)) {
    const why = code.startsWith('ERR_TLS_CERT_ALTNAME') || code === 'HOSTNAME_MISMATCH'
      ? 'is not issued for the host bankgate called'
      : 'is not trusted';
    return make(
      'bank_certificate_untrusted',
      502,
      `bank ${bank} presented a server certificate that ${why} (${code}). ` +
        `Check ${mtls}.ca (the CA that signs the bank's server certificate), ${mtls}.servername and the bank's URL`,
    );
  }

  if (code === 'ERR_BANKGATE_TLS_HANDSHAKE_REJECTED' || (code === 'ECONNRESET' && messageHas(found, HANDSHAKE_DISCONNECT))) {
    return make(
      'bank_tls_error',
      502,
      `bank ${bank} rejected the TLS handshake: it closed the connection right after it without answering ` +
        `(no TLS alert), as banks do when the client certificate is missing or not trusted. ` +
        `Check ${mtls} (certificate, key, and that the bank registered this certificate or its CA)`,
    );
  }

  if (code !== undefined && code.startsWith('ERR_SSL_')) {
    const alert = tlsAlertName(code);
    if (alert !== undefined && CLIENT_CERT_ALERTS.has(alert)) {
      return make(
        'bank_tls_error',
        502,
        `bank ${bank} rejected the TLS handshake: client certificate missing or not trusted by the bank ` +
          `(alert: ${alert}). Check ${mtls}`,
      );
    }
    if (alert !== undefined) {
      return make('bank_tls_error', 502, `bank ${bank} failed the TLS handshake (alert: ${alert}). Check ${mtls} and the bank's TLS setup`);
    }
    return make(
      'bank_tls_error',
      502,
      `TLS with bank ${bank} failed (${code}): the port may not speak TLS, or no protocol version or cipher is ` +
        `shared. Check the bank's URL in banks.${bank} and ${mtls}`,
    );
  }

  const timeout = code === undefined ? undefined : TIMEOUTS[code];
  if (timeout !== undefined) {
    const ms = context.timeouts?.[timeout.setting];
    return make(
      'bank_timeout',
      504,
      `bank ${bank} ${timeout.what}${ms === undefined ? ' in time' : ` within ${ms} ms`}. ` +
        `Retry later, or raise banks.${bank}.${SETTING_PATH[timeout.setting]} if the bank is known to be slow`,
    );
  }

  if (code !== undefined && TOO_LARGE.has(code)) {
    const limit = context.maxResponseBytes ?? (found as { limit?: number }).limit;
    return make(
      'bank_response_too_large',
      502,
      `bank ${bank} sent a response larger than ${limit === undefined ? 'the limit' : `${limit} bytes`}. ` +
        `Page the request, or raise banks.${bank}.maxResponseBytes if such responses are expected`,
    );
  }

  if (code === 'ERR_BANKGATE_UNDECODABLE_RESPONSE') {
    const coding = (found as { coding?: string }).coding ?? 'its content-encoding';
    return make('bank_response_undecodable', 502, `bank ${bank} sent a body that is not valid ${coding} although it declared that content-encoding`);
  }

  if (code !== undefined && UNREACHABLE.has(code)) {
    const where = context.origin ? ` at ${context.origin}` : '';
    const what = code === 'UND_ERR_SOCKET' || code === 'ECONNRESET' || code === 'EPIPE' || code === 'UND_ERR_CLOSED' ||
      code === 'ERR_BANKGATE_CONNECTION_CLOSED'
      ? 'closed the connection before answering'
      : 'could not be reached';
    return make(
      'bank_unreachable',
      502,
      `bank ${bank}${where} ${what} (${code}). Check the bank's URL in banks.${bank}, DNS and that the bank is up`,
    );
  }

  if (context.fromFetch && error instanceof TypeError) {
    const where = context.origin ? ` at ${context.origin}` : '';
    return make(
      'bank_unreachable',
      502,
      `bank ${bank}${where} could not be reached (network error from fetch). Check the bank's URL in banks.${bank}, ` +
        `the runtime's mTLS binding and that the bank is up`,
    );
  }

  // Not a network failure we know: a bug or a bad request, not the bank's fault. Name the error, not its text.
  const name = error instanceof Error ? error.name : typeof error;
  return make('internal_error', 500, `calling bank ${bank} failed unexpectedly (${name}${code ? `: ${code}` : ''})`);
}

function messageHas(error: unknown, text: string): boolean {
  return error instanceof Error && error.message.includes(text);
}

/** `https://host:port` of a fetch input, for error details. */
export function originOf(input: RequestInfo | URL): string | undefined {
  try {
    return new URL(input instanceof Request ? input.url : input.toString()).origin;
  } catch {
    return undefined;
  }
}
