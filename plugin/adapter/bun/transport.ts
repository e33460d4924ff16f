/**
 * `bunRuntime().transport`: one client identity on Bun. The QWAC (PEM) is checked at start and presented
 * through Bun's own `fetch(url, { tls: { cert, key, ca } })`. Never undici's `Agent` here: Bun accepts its
 * TLS options and silently ignores them (no client certificate, no pinned CA). Rotation re-reads the files
 * on change (`node:fs` `watch`, which Bun implements); in-flight calls finish on the old identity.
 */
import { watch } from 'node:fs';
import type { IdentityTransport, IdentityTransportRequest, RuntimeTransportContext } from '../../runtime.js';
import { createPemFetchTransport } from '../../transport/pem-fetch-transport.js';
import type { PemIdentity } from '../../transport/pem-identity.js';
import { probeBudgetMs } from '../../transport/defaults.js';
import { explainReset, type ProbeBounds } from './handshake-probe.js';

type BunFetchInit = RequestInit & { tls?: { cert: string; key: string; ca?: string } };

export async function createBunIdentityTransport(request: IdentityTransportRequest, context: RuntimeTransportContext): Promise<IdentityTransport | undefined> {
  const { mtls, at } = request;
  if (mtls.kind === 'binding') {
    context.problems.add(`${at}.binding: ${mtls.binding} is a platform binding (Cloudflare Workers mtls_certificates), which the bun runtime does not have; give the certificate as cert + key (PEM)`);
    return undefined;
  }
  if (mtls.servername !== undefined) {
    context.problems.add(`${at}.servername: the bun runtime's fetch cannot set the TLS server name apart from the URL's host; call the bank by the host its certificate names`);
    return undefined;
  }
  return createPemFetchTransport({
    request: { ...request, mtls },
    context,
    connect(identity) {
      const tls = { cert: identity.certPem, key: identity.keyPem, ...(identity.caPem ? { ca: identity.caPem } : {}) };
      return {
        fetch: (input, init) => fetch(input, { ...init, tls } as BunFetchInit),
        close: () => {},
      };
    },
    translateError: (error, input, identity, signal) => bunNetworkError(error, input, identity, { timeoutMs: probeBudgetMs(request.settings.timeouts.connectMs), ...(signal ? { signal } : {}) }),
    watch(files, onChange) {
      const watchers = files.map((file) => watch(file, { persistent: false }, () => onChange()));
      return { close: () => watchers.forEach((w) => w.close()) };
    },
    unref: (timer) => (timer as unknown as { unref?: () => void }).unref?.(),
  });
}

/** Bun's network error codes that differ from Node's, → Node's (what `classifyTransportError` knows). */
const BUN_CODES: Record<string, string> = {
  ConnectionRefused: 'ECONNREFUSED',
  ConnectionReset: 'ECONNRESET',
  ConnectionClosed: 'ECONNRESET',
  FailedToOpenSocket: 'ECONNREFUSED',
  Timeout: 'ETIMEDOUT',
};

/** A Bun network failure, with the code Node (or OpenSSL) would have given it. */
export class BunNetworkError extends Error {
  constructor(readonly code: string, cause: unknown) {
    super(`network error (${code})`, { cause });
    this.name = 'BunNetworkError';
  }
}

/**
 * Bun's fetch errors carry a `code`: OpenSSL's (`UNABLE_TO_VERIFY_LEAF_SIGNATURE`, as Node) or Bun's own names.
 * A reset is probed once (`explainReset`, within `probe`'s budget and signal): a bank refusing the client certificate resets too.
 */
export async function bunNetworkError(error: unknown, input: RequestInfo | URL, identity: PemIdentity, probe: ProbeBounds): Promise<unknown> {
  const code = (error as { code?: unknown })?.code;
  if (typeof code !== 'string') return error;
  if (code === 'ECONNRESET' || code === 'ConnectionClosed') {
    const url = new URL(input instanceof Request ? input.url : String(input));
    // A refused handshake is a TLS problem; any other reset stays a reset (an unknown outcome for a refresh).
    if (url.protocol === 'https:') {
      const explained = await explainReset(error, url, identity, probe);
      if (explained !== error) return explained;
    }
  }
  const mapped = BUN_CODES[code];
  return mapped ? new BunNetworkError(mapped, error) : error;
}
