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
import { createPemFetchTransport } from '../../transport/pem-fetch-transport.js';
import { deno } from './deno-api.js';

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
    translateError: denoNetworkError,
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

/** `CertificateRequired` → `CERTIFICATE_REQUIRED`, `UnknownCA` → `UNKNOWN_CA`. */
function snake(name: string): string {
  return name.replace(/([a-z])([A-Z])/g, '$1_$2').toUpperCase();
}
