/**
 * The edge form of the transport: `BankTransport` over any WHATWG `fetch` that already carries the client
 * identity (a Workers `mtls_certificates` binding's `fetch`, a fetch bound to `Deno.createHttpClient`, or the
 * Node transport's own `fetch`). Same buffering, size limit, hop-by-hop stripping, signing and error codes as
 * the Node transport; TLS settings belong to the runtime's binding, not to this code.
 */
import { BankgateError } from '../errors/bankgate-error.js';
import { classifyTransportError, originOf, type ClassifyContext } from './classify-error.js';
import { outgoingHeaders, stripHopByHop } from './hop-by-hop.js';
import { DEFAULT_MAX_RESPONSE_BYTES } from './defaults.js';
import { bufferedResponse, callerSignalOf, chunksOf, readBoundedBody } from './read-body.js';
import { createRequestSigner } from './request-signer.js';
import { signingOf, type ResolvedSigning, type SigningOptions } from './signing-options.js';
import { checkedTarget } from './request-target.js';
import { FetchTimeoutError } from './transport-errors.js';
import type { BankRequest, BankResponse, BankTransport } from './types.js';

export interface FetchTransportOptions {
  /** The bank's config name, used in error details. */
  readonly bank: string;
  /** A fetch that presents the bank's client certificate (the runtime's mTLS mechanism). */
  readonly fetch: typeof fetch;
  /** draft-cavage request signing, as for the Node transport: PEM options, or signing resolved from the config. Encrypted keys are refused (WebCrypto cannot decrypt them). */
  readonly signing?: SigningOptions | ResolvedSigning;
  /** Largest response body `send()` accepts. Default 10 MiB. */
  readonly maxResponseBytes?: number;
  /**
   * Deadline of one attempt, headers and body, for `send()` and `fetch` alike (edge fetches have no separate
   * connect/headers/body timeouts). The runtimes set it from `banks.<bank>.transport.timeouts.totalMs`, which a
   * `bank_timeout` names. Default 30 000 ms.
   */
  readonly timeoutMs?: number;
  /** Called by `close()`, e.g. `() => client.close()` for a Deno `HttpClient`. */
  readonly close?: () => void | Promise<void>;
}

const DEFAULT_TIMEOUT_MS = 30_000;

/**
 * Creates a `BankTransport` over an injected WHATWG fetch, for runtimes where mTLS is the platform's job.
 * Options are validated when this runs (`config_invalid` naming the path).
 *
 * @example Cloudflare Workers, with `mtls_certificates = [{ binding = "SG_QWAC", certificate_id = "…" }]`:
 * const transport = createFetchTransport({ bank: 'sg', fetch: (input, init) => env.SG_QWAC.fetch(input, init) });
 * @example Deno:
 * const client = Deno.createHttpClient({ cert, key, caCerts: [bankCa] });
 * const transport = createFetchTransport({ bank: 'sg', fetch: (i, init) => fetch(i, { ...init, client }), close: () => client.close() });
 */
export function createFetchTransport(options: FetchTransportOptions): BankTransport {
  const { bank } = options;
  if (typeof bank !== 'string' || bank === '') {
    throw new BankgateError('config_invalid', { status: 500, detail: 'transport.bank: must be the bank name' });
  }
  if (typeof options.fetch !== 'function') {
    throw new BankgateError('config_invalid', { status: 500, detail: `banks.${bank}.fetch: must be a fetch function` });
  }
  const maxResponseBytes = positive(options.maxResponseBytes, DEFAULT_MAX_RESPONSE_BYTES, `banks.${bank}.maxResponseBytes`);
  const timeoutMs = positive(options.timeoutMs, DEFAULT_TIMEOUT_MS, `banks.${bank}.timeoutMs`);
  const sign = options.signing && createRequestSigner(bank, signingOf(options.signing, `banks.${bank}.signing`));
  const context: ClassifyContext = { bank, maxResponseBytes, timeouts: { totalMs: timeoutMs }, fromFetch: true };
  const baseFetch = options.fetch;

  async function send(request: BankRequest): Promise<BankResponse> {
    const url = checkedTarget(bank, request.origin, request.path);
    const stripped = outgoingHeaders(request.headers);
    const headers = sign ? await sign({ method: request.method, path: request.path, headers: stripped, body: request.body }) : stripped;
    const deadline = AbortSignal.timeout(timeoutMs);
    const signal = request.signal ? AbortSignal.any([request.signal, deadline]) : deadline;
    try {
      const response = await baseFetch(url, {
        method: request.method,
        headers,
        // TS 5.9 types BodyInit bytes as ArrayBuffer-backed; a BankRequest body always is.
        body: request.body as Uint8Array<ArrayBuffer> | undefined,
        signal,
        // A bank's redirect is its answer, for the gateway to map; following it could leave the bank's host.
        redirect: 'manual',
      });
      const body = await readBoundedBody(chunksOf(response.body), maxResponseBytes, response.headers.get('content-length'), () =>
        void response.body?.cancel().catch(() => {}),
      );
      const responseHeaders = stripHopByHop(headerRecord(response.headers));
      // WHATWG fetch has already decoded gzip/deflate/br but keeps the header: drop it (and the encoded
      // length) so that body and headers agree, as the Node transport's do.
      if (responseHeaders['content-encoding'] !== undefined) {
        delete responseHeaders['content-encoding'];
        delete responseHeaders['content-length'];
      }
      return { status: response.status, headers: responseHeaders, body };
    } catch (error) {
      if (request.signal?.aborted) throw error;
      const cause = deadline.aborted ? new FetchTimeoutError(timeoutMs, error) : error;
      throw classifyTransportError(cause, { ...context, origin: request.origin });
    }
  }

  /**
   * The OAuth calls' fetch (discovery, PAR, token, revocation, JWKS): under the same deadline as `send()`, headers
   * and body (the body is read here, under the size limit, and handed over buffered), so a token endpoint that
   * trickles or never answers ends in `bank_timeout` at `timeoutMs`. The caller's signal still aborts the call.
   */
  async function classifiedFetch(input: RequestInfo | URL, init?: RequestInit): Promise<Response> {
    const callerSignal = callerSignalOf(input, init);
    const deadline = AbortSignal.timeout(timeoutMs);
    const signal = callerSignal ? AbortSignal.any([callerSignal, deadline]) : deadline;
    try {
      return await bufferedResponse(await baseFetch(input, { ...init, signal }), maxResponseBytes);
    } catch (error) {
      if (callerSignal?.aborted) throw error;
      const cause = deadline.aborted ? new FetchTimeoutError(timeoutMs, error) : error;
      throw classifyTransportError(cause, { ...context, origin: originOf(input) });
    }
  }

  return {
    send,
    fetch: classifiedFetch as typeof fetch,
    close: async () => {
      await options.close?.();
    },
  };
}

function positive(value: number | undefined, fallback: number, path: string): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value <= 0) {
    throw new BankgateError('config_invalid', { status: 500, detail: `${path}: must be a positive integer, got ${JSON.stringify(value)}` });
  }
  return value;
}

/** Lower-case names (the Headers class already lower-cases); `set-cookie` kept as a list. */
function headerRecord(headers: Headers): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  headers.forEach((value, name) => {
    out[name] = value;
  });
  const cookies = typeof headers.getSetCookie === 'function' ? headers.getSetCookie() : [];
  if (cookies.length > 0) out['set-cookie'] = cookies;
  return out;
}
