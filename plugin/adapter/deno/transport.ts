/**
 * `denoRuntime().transport`: one client identity on Deno. The QWAC (PEM) is checked at start and presented
 * through `Deno.createHttpClient({ cert, key, caCerts })`, passed as `client` to `fetch`; the client is closed
 * on `close()` and replaced when the certificate files change (`Deno.watchFs`). Deno's fetch errors carry no
 * codes, only rustls' words: they are translated here into the codes the core classifies.
 *
 * Deno's `caCerts` are trusted in addition to its root store: `ca` adds the bank's CA rather than pinning it
 * as on Node; and Deno cannot set the TLS server name, so `servername` is refused at start.
 */
import type { IdentityTransport, IdentityTransportRequest, RuntimeTransportContext } from '../../runtime.js';
import { probeBudgetMs } from '../../transport/defaults.js';
import { createPemFetchTransport } from '../../transport/pem-fetch-transport.js';
import type { PemIdentity } from '../../transport/pem-identity.js';
import { deno, type DenoNamespace } from './deno-api.js';

export async function createDenoIdentityTransport(request: IdentityTransportRequest, context: RuntimeTransportContext): Promise<IdentityTransport | undefined> {
  const { mtls, at } = request;
  if (mtls.kind === 'binding') {
    context.problems.add(`${at}.binding: ${mtls.binding} is a platform binding (Cloudflare Workers mtls_certificates), which the deno runtime does not have; give the certificate as cert + key (PEM)`);
    return undefined;
  }
  if (mtls.servername !== undefined) {
    context.problems.add(`${at}.servername: the deno runtime cannot set the TLS server name (Deno.createHttpClient has no such option); call the bank by the host its certificate names`);
    return undefined;
  }
  const Deno = deno();
  return createPemFetchTransport({
    request: { ...request, mtls },
    context,
    connect(identity) {
      const client = Deno.createHttpClient({ cert: identity.certPem, key: identity.keyPem, ...(identity.caPem ? { caCerts: [identity.caPem] } : {}) });
      return {
        fetch: (input, init) => fetch(input, { ...init, client } as RequestInit),
        close: () => client.close(),
      };
    },
    translateError: (error, input, identity, signal) => explainClose(denoNetworkError(error), input, identity, Deno, probeBudgetMs(request.settings.timeouts.connectMs), signal),
    watch(files, onChange) {
      const watcher = Deno.watchFs(files.map((file) => (file.startsWith('/') ? file : `${Deno.cwd()}/${file}`)));
      void (async () => {
        try {
          for await (const event of watcher) if (event.kind !== 'access') onChange();
        } catch {
          // closed
        }
      })();
      return { close: () => watcher.close() };
    },
    unref: (timer) => Deno.unrefTimer(timer as unknown as number),
  });
}

/** A Deno network failure, with the code Node (or OpenSSL) would have given it. */
export class DenoNetworkError extends Error {
  constructor(readonly code: string, cause: unknown) {
    super(`network error (${code})`, { cause });
    this.name = 'DenoNetworkError';
  }
}

const PEER_CERTIFICATE: Record<string, string> = {
  UnknownIssuer: 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  BadSignature: 'CERT_SIGNATURE_FAILURE',
  Expired: 'CERT_HAS_EXPIRED',
  NotValidYet: 'CERT_NOT_YET_VALID',
  NotValidForName: 'ERR_TLS_CERT_ALTNAME_INVALID',
  Revoked: 'CERT_REVOKED',
};

/**
 * rustls and hyper's words (in the `cause` chain of Deno's `TypeError: fetch failed`) → codes:
 * `received fatal alert: CertificateRequired` → `ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED`,
 * `invalid peer certificate: UnknownIssuer` → `UNABLE_TO_GET_ISSUER_CERT_LOCALLY`, the server closing the TLS
 * connection before any answer (what a bank that rejects the client certificate without an alert does) →
 * `ERR_BANKGATE_TLS_HANDSHAKE_REJECTED`, connection refused/reset → `ECONNREFUSED`/`ECONNRESET`.
 */
export function denoNetworkError(error: unknown): unknown {
  if (!(error instanceof TypeError)) return error;
  let text = '';
  for (let at: unknown = error, depth = 0; at instanceof Error && depth < 8; at = at.cause, depth++) text += ` ${at.message}`;
  const alert = /received fatal alert: (\w+)/.exec(text)?.[1];
  if (alert) return new DenoNetworkError(`ERR_SSL_TLSV13_ALERT_${snake(alert)}`, error);
  const peer = /invalid peer certificate: (\w+)/.exec(text)?.[1];
  if (peer) return new DenoNetworkError(PEER_CERTIFICATE[peer] ?? 'CERT_UNTRUSTED', error);
  if (/without sending TLS close_notify|tls handshake eof/i.test(text)) return new DenoNetworkError('ERR_BANKGATE_TLS_HANDSHAKE_REJECTED', error);
  if (/connection refused/i.test(text)) return new DenoNetworkError('ECONNREFUSED', error);
  if (/connection reset/i.test(text)) return new DenoNetworkError('ECONNRESET', error);
  if (/dns error|failed to lookup address/i.test(text)) return new DenoNetworkError('ENOTFOUND', error);
  return error;
}

/**
 * rustls says `peer closed connection without sending TLS close_notify` for any connection the bank dropped
 * without a word: a client certificate it refuses without an alert, and a request it read and then hung up on
 * (an unknown outcome, not a certificate to rotate). One diagnostic connection with the same certificate
 * asking `HEAD /` tells them apart, as on Node (adapter/node/transport/handshake-probe.ts): a bank that
 * drops it too, after the handshake and without a byte, refused the certificate; any answer, no verdict
 * within `timeoutMs` (the probe budget, `probeBudgetMs`), or the failed call's `signal` aborting, means the
 * connection was merely closed (`ERR_BANKGATE_CONNECTION_CLOSED` → `bank_unreachable`).
 */
export async function explainClose(error: unknown, input: RequestInfo | URL, identity: PemIdentity, Deno: Pick<DenoNamespace, 'connectTls'>, timeoutMs: number, signal?: AbortSignal): Promise<unknown> {
  if (!(error instanceof DenoNetworkError) || error.code !== 'ERR_BANKGATE_TLS_HANDSHAKE_REJECTED') return error;
  const url = new URL(input instanceof Request ? input.url : String(input));
  return (await handshakeRefused(url, identity, Deno, timeoutMs, signal)) ? error : new DenoNetworkError('ERR_BANKGATE_CONNECTION_CLOSED', error.cause);
}

async function handshakeRefused(url: URL, identity: PemIdentity, Deno: Pick<DenoNamespace, 'connectTls'>, timeoutMs: number, signal: AbortSignal | undefined): Promise<boolean> {
  if (signal?.aborted) return false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const abandon = (): void => settle(false);
  let settle: (verdict: false) => void = () => {};
  const undecided = new Promise<false>((resolve) => {
    settle = resolve;
    timer = setTimeout(() => resolve(false), timeoutMs);
  });
  signal?.addEventListener('abort', abandon, { once: true });
  let conn: Awaited<ReturnType<DenoNamespace['connectTls']>> | undefined;
  let over = false;
  const probe = async (): Promise<boolean> => {
    try {
      conn = await Deno.connectTls({
        hostname: url.hostname.replace(/^\[|\]$/g, ''),
        port: Number(url.port || 443),
        cert: identity.certPem,
        key: identity.keyPem,
        ...(identity.caPem ? { caCerts: [identity.caPem] } : {}),
      });
    } catch {
      return false; // no connection: no evidence about our certificate
    }
    if (over) return false; // given up meanwhile: `running` closes it
    try {
      await conn.handshake();
    } catch (failure) {
      // rustls cannot say whether our certificate went out: a hang-up mid-handshake (TLS 1.2 servers refuse
      // there) on this second, request-less connection counts as a refusal; anything else does not.
      return droppedByPeer(failure);
    }
    try {
      await conn.write(new TextEncoder().encode(`HEAD / HTTP/1.1\r\nhost: ${url.host}\r\nconnection: close\r\n\r\n`));
      const read = await conn.read(new Uint8Array(1));
      return read === null; // the end of the stream before a single byte of answer
    } catch (failure) {
      // Dropped after our certificate went with the handshake: refused (with or without an alert).
      return droppedByPeer(failure);
    }
  };
  const running = probe().finally(() => {
    try {
      conn?.close();
    } catch {
      // already closed
    }
  });
  try {
    return await Promise.race([running, undecided]);
  } finally {
    over = true;
    clearTimeout(timer);
    signal?.removeEventListener('abort', abandon);
    // An undecided probe's connection is closed now, not when the bank finally answers.
    try {
      conn?.close();
    } catch {
      // already closed
    }
  }
}

/** rustls' and Deno's words for a peer that hung up or sent a fatal alert. */
function droppedByPeer(failure: unknown): boolean {
  const text = failure instanceof Error ? `${failure.name} ${failure.message}` : '';
  return /close_notify|handshake eof|fatal alert|unexpected ?eof|connection reset|broken pipe/i.test(text);
}

/** `CertificateRequired` → `CERTIFICATE_REQUIRED`, `UnknownCA` → `UNKNOWN_CA`. */
function snake(name: string): string {
  return name.replace(/([a-z])([A-Z])/g, '$1_$2').toUpperCase();
}
