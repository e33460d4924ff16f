/**
 * The Node transport: undici's own `Agent.request()` on the forwarding path (WHATWG fetch costs several times
 * the CPU per call), one Agent per bank holding the QWAC for mTLS and a pool per origin.
 */
import { createSecureContext, type SecureContext } from 'node:tls';
import { Agent, buildConnector, fetch as undiciFetch } from 'undici';
import type { BankgateError } from '../../../errors/bankgate-error.js';
import type { ClientIdentity } from './client-identity.js';
import { dispatchBuffered, type BufferedAnswer } from './buffered-dispatch.js';
import { decodeBody } from './decode-body.js';
import { classifyTransportError, originOf, type ClassifyContext } from '../../../transport/classify-error.js';
import { outgoingHeaders, stripHopByHop } from '../../../transport/hop-by-hop.js';
import { bufferedResponse, callerSignalOf, readBoundedBody } from '../../../transport/read-body.js';
import { probeBudgetMs } from '../../../transport/defaults.js';
import { createRequestSigner } from '../../../transport/request-signer.js';
import { assertTarget } from '../../../transport/request-target.js';
import { isSilentClose } from '../../../transport/retry-policy.js';
import { AttemptDeadlineError, ConnectionClosedError } from '../../../transport/transport-errors.js';
import type { BankRequest, BankResponse, BankTransport } from '../../../transport/types.js';
import { resolveNodeTransportOptions, type NodeTransportOptions, type ResolvedNodeTransportOptions } from './options.js';
import { probeHandshake } from './handshake-probe.js';
import { surfaceTlsRejection } from './tls-rejection.js';

export type { NodeTransportOptions } from './options.js';

/**
 * Creates the transport bankgate uses to call one bank from Node: mutual TLS with the bank's QWAC client
 * certificate, the bank's CA pinned, bounded timeouts and response size, optional draft-cavage request
 * signing. Options are validated (every PEM parsed, the key matched to the certificate) when this runs;
 * a bad option throws `BankgateError('config_invalid')` naming its path (`banks.sg.mtls.key: …`).
 *
 * Options:
 * - `bank`: the bank's config name, used in error details.
 * - `tls.cert`, `tls.key` (PEM, `tls.passphrase` if encrypted, `tls.chain` for intermediates), or `tls.pfx` +
 *   `tls.passphrase` (PKCS#12), or `tls.identity` (from `loadClientIdentity`): the client certificate.
 * - `tls.ca` (PEM or list): pins the CA(s) of the bank's server certificate; absent, Node's root store is used.
 *   Server certificates are always verified (`rejectUnauthorized` cannot be turned off).
 * - `tls.servername`: SNI and certificate name, when it differs from the origin's host.
 * - `timeouts.connectMs` (10 000), `timeouts.headersMs` (30 000), `timeouts.bodyMs` (30 000, between two chunks),
 *   `timeouts.totalMs` (60 000: the deadline of one attempt, headers and body).
 * - `maxResponseBytes` (10 MiB), `keepAliveMs` (10 000).
 * - `signing: { keyId, key, passphrase?, certificate?, headers? }` (or signing resolved from the config): signs on
 *   WebCrypto (an encrypted key is decrypted here, with `node:crypto`); adds `digest`, `signature` (rsa-sha256) and
 *   `tpp-signature-certificate` (when `certificate` is given) to every `send()`; default signed headers
 *   `(request-target) digest x-request-id date` (`date` added when absent).
 * - `acceptCompressed` (false): ask for gzip/deflate/br. Compressed answers are always decoded (under the
 *   size limit) and `content-encoding` dropped, so body and headers agree.
 *
 * `send()` buffers the response (hop-by-hop headers removed, names lower-case) and throws `BankgateError` with
 * `bank_tls_error`, `bank_certificate_untrusted`, `bank_unreachable`, `bank_timeout` or
 * `bank_response_too_large` (see classify-error.ts), `missing_header` (400) when a header to sign is absent,
 * `internal_error` for a non-https origin; an aborted `signal` rethrows the abort as is. `fetch` is Node's
 * fetch over the same Agent (same client certificate, same size limit, the same `totalMs` deadline over headers and
 * body, its answer buffered), for oauth4webapi's `customFetch` and the generated SDKs' `fetchApi`; it accepts
 * `(url, init)` and a `Request`, and throws the same codes.
 * Signing follows draft-cavage-http-signatures-10 and RFC 3230 (`Digest`).
 *
 * @example
 * const transport = createNodeTransport({
 *   bank: 'sg',
 *   tls: { cert: readFileSync('qwac.pem', 'utf8'), key: readFileSync('qwac.key', 'utf8'), ca: readFileSync('sg-ca.pem', 'utf8') },
 *   signing: { keyId: 'https://tpp.example/qseal.pem', key: readFileSync('qseal.key', 'utf8') },
 * });
 * const res = await transport.send({
 *   method: 'GET', origin: 'https://api.sg.example', path: '/accounts', headers: { 'x-request-id': randomUUID() },
 * });
 * await transport.close();
 */
export function createNodeTransport(options: NodeTransportOptions): NodeTransport {
  const config = resolveNodeTransportOptions(options);
  let identity = config.tls.identity;
  let { agent, secureContext } = createAgent(config, identity);
  const sign = config.signing && createRequestSigner(config.bank, config.signing);
  const acceptEncoding = config.acceptCompressed ? 'gzip, deflate, br' : undefined;
  const context: ClassifyContext = {
    bank: config.bank,
    timeouts: config.timeouts,
    maxResponseBytes: config.maxResponseBytes,
  };

  async function send(request: BankRequest): Promise<BankResponse> {
    assertTarget(config.bank, request.origin, request.path);
    const stripped = outgoingHeaders(request.headers);
    if (acceptEncoding !== undefined) stripped['accept-encoding'] = acceptEncoding;
    const usedContext = secureContext;
    const headers = sign ? await sign({ method: request.method, path: request.path, headers: stripped, body: request.body }) : stripped;
    try {
      const options = { origin: request.origin, path: request.path, method: request.method as Agent.DispatchOptions['method'], headers, body: request.body };
      // `agent` is read in the same tick as the dispatch: a rotation never hands a request to a closing Agent.
      // Without a signal to follow, the answer is buffered by a bare dispatch handler (no stream per answer).
      const response = request.signal ? await requestStreamed(agent, options, request.signal) : await dispatchBuffered(agent, options, config.maxResponseBytes, config.timeouts.totalMs);
      const { body } = response;
      const responseHeaders = stripHopByHop(response.headers);
      if (responseHeaders['content-encoding'] === undefined) return { status: response.statusCode, headers: responseHeaders, body };
      const decoded = await decodeBody(body, responseHeaders, config.maxResponseBytes);
      return { status: response.statusCode, headers: decoded.headers, body: decoded.body };
    } catch (error) {
      if (request.signal?.aborted) throw error;
      throw await diagnose(error, { ...context, origin: request.origin }, usedContext, request.signal);
    }
  }

  /** `agent.request()`, which follows the caller's AbortSignal and the attempt's deadline, read under the size limit. */
  async function requestStreamed(dispatcher: Agent, options: Parameters<Agent['request']>[0], signal: AbortSignal): Promise<BufferedAnswer> {
    const deadline = AbortSignal.timeout(config.timeouts.totalMs);
    try {
      const response = await dispatcher.request({ ...options, signal: AbortSignal.any([signal, deadline]) });
      const body = await readBoundedBody(response.body, config.maxResponseBytes, response.headers['content-length'], () => response.body.destroy());
      return { statusCode: response.statusCode, headers: response.headers, body };
    } catch (error) {
      if (deadline.aborted && !signal.aborted) throw new AttemptDeadlineError(config.timeouts.totalMs);
      throw error;
    }
  }

  /**
   * Classifies a failed call. A connection the bank closed without an alert and without a byte of answer is
   * only called a refused handshake when a diagnostic handshake with the same certificate is refused too
   * (handshake-probe.ts); otherwise it is a closed connection (`bank_unreachable`, an unknown outcome). The probe
   * holds the error back at most `probeBudgetMs(connectMs)`, and not at all once the caller has given up.
   */
  async function diagnose(error: unknown, classifyContext: ClassifyContext, usedContext: SecureContext, signal: AbortSignal | undefined): Promise<BankgateError> {
    const classified = classifyTransportError(error, classifyContext);
    if (!isSilentClose(classified) || classifyContext.origin === undefined) return classified;
    const verdict = await probeHandshake({
      origin: classifyContext.origin,
      secureContext: usedContext,
      timeoutMs: probeBudgetMs(config.timeouts.connectMs),
      ...(signal ? { signal } : {}),
      ...(config.tls.servername ? { servername: config.tls.servername } : {}),
    });
    if (!verdict.refused) return classifyTransportError(new ConnectionClosedError(error), classifyContext);
    return verdict.alert ? classifyTransportError(verdict.alert, classifyContext) : classified;
  }

  /**
   * The attempt's deadline (`timeouts.totalMs`) covers the whole answer, as `send()`'s does: the body is read here,
   * under the deadline and the size limit, and handed over buffered (token, PAR, discovery and JWKS answers are
   * small). A bank that trickles its token response, or never answers, ends in `bank_timeout` at `totalMs`; the
   * caller's signal still aborts the call (its abort rethrown as is).
   */
  async function mtlsFetch(input: RequestInfo | URL, init?: RequestInit): Promise<Response> {
    const usedContext = secureContext;
    const callerSignal = callerSignalOf(input, init);
    const deadline = AbortSignal.timeout(config.timeouts.totalMs);
    const signal = callerSignal ? AbortSignal.any([callerSignal, deadline]) : deadline;
    try {
      // undici's own fetch (Node's global one bundles another undici, whose handlers this Agent refuses); a Request input keeps its own method, headers and body.
      // A global Request is not undici's Request class: its parts are handed over instead.
      const [url, options] = input instanceof Request ? [input.url, { method: input.method, headers: input.headers, body: input.body, duplex: 'half', redirect: input.redirect, ...init }] : [input, init];
      const response = await undiciFetch(url as string | URL, { ...options, signal, dispatcher: agent } as Parameters<typeof undiciFetch>[1]);
      return await bufferedResponse(response as unknown as Response, config.maxResponseBytes);
    } catch (error) {
      if (callerSignal?.aborted) throw error;
      const cause = deadline.aborted ? new AttemptDeadlineError(config.timeouts.totalMs) : error;
      throw await diagnose(cause, { ...context, origin: originOf(input), fromFetch: true }, usedContext, callerSignal);
    }
  }

  return {
    send,
    fetch: mtlsFetch as typeof fetch,
    close: () => agent.close(),
    clientCertificateThumbprint: () => identity.thumbprint,
    useClientIdentity(next) {
      const previous = agent;
      ({ agent, secureContext } = createAgent(config, next));
      identity = next;
      // Calls in flight finish on the old Agent: close() waits for them, then ends its connections.
      return previous.close();
    },
  };
}

/** A Node transport whose client certificate can be replaced while it runs (hot rotation). */
export interface NodeTransport extends BankTransport {
  readonly clientCertificateThumbprint: () => string;
  /**
   * Presents `identity` on every new connection from now on; resolves when the previous connections, and
   * the calls still running on them, are done.
   */
  useClientIdentity(identity: ClientIdentity): Promise<void>;
}

function createAgent(config: ResolvedNodeTransportOptions, identity: ClientIdentity): { agent: Agent; secureContext: SecureContext } {
  const { tls, timeouts } = config;
  // One SecureContext per identity, built once: tls.connect would otherwise parse the PEMs on every handshake.
  // A new Agent also means a new connector with an empty TLS session cache, so no resumed session (which
  // carries the old client certificate) outlives a rotation.
  const secureContext = createSecureContext({ ...identity.tlsOptions, ...(tls.ca ? { ca: tls.ca } : {}) });
  const connector = buildConnector({
    secureContext,
    rejectUnauthorized: true,
    timeout: timeouts.connectMs,
  } as buildConnector.BuildOptions);
  // undici derives SNI from the origin's host and only falls back to a configured name: override it here.
  const connect: buildConnector.connector = tls.servername
    ? (opts, callback) => connector({ ...opts, servername: tls.servername }, callback)
    : connector;
  const agent = new Agent({
    connect: surfaceTlsRejection(connect),
    headersTimeout: timeouts.headersMs,
    bodyTimeout: timeouts.bodyMs,
    keepAliveTimeout: config.keepAliveMs,
    // Also bounds `fetch` (token responses), whose bodies `send()`'s reader never sees.
    maxResponseSize: config.maxResponseBytes,
  });
  return { agent, secureContext };
}
