/**
 * One client identity over a runtime's own mTLS fetch (Deno's `createHttpClient`, Bun's `fetch` `tls`), for
 * runtimes that take the QWAC as PEM text: the identity is read and checked at start (`pem-identity.ts`,
 * problems under their paths), presented on every call, re-read when its files change (a good new certificate
 * is used for new calls; a bad one is logged and the current one kept), and its expiry reported at start, on
 * rotation and hourly. The runtime supplies how a fetch presents an identity, how its network errors read
 * (translated into the coded errors `classifyTransportError` knows), and how files are watched.
 */
import type { IdentityTransport, IdentityTransportRequest, RuntimeTransportContext } from '../runtime.js';
import { reportExpiry, type ExpiryContext } from './certificate-expiry.js';
import type { FileMtlsConfig } from './config-schema.js';
import { createFetchTransport } from './fetch-transport.js';
import { readPemIdentity, type PemIdentity } from './pem-identity.js';

const HOUR_MS = 3_600_000;

/** A fetch presenting one identity, and how to let it go. */
export interface IdentityClient {
  readonly fetch: typeof fetch;
  close(): void | Promise<void>;
}

export interface PemFetchTransportOptions {
  readonly request: IdentityTransportRequest & { readonly mtls: FileMtlsConfig };
  readonly context: RuntimeTransportContext;
  /** A fetch that presents `identity` (its certificate, key and pinned CA). */
  connect(identity: PemIdentity): IdentityClient;
  /**
   * The runtime's network error → an error with a stable `code` (`ERR_SSL_…`, `ECONNREFUSED`, …), or as it is.
   * `signal` is the failed call's (the caller's, with the attempt's deadline): a diagnostic probe stops when it aborts.
   */
  translateError?(error: unknown, input: RequestInfo | URL, identity: PemIdentity, signal: AbortSignal | undefined): unknown | Promise<unknown>;
  /** Watches the identity's files; `onChange` after any change. Absent: no hot rotation. */
  watch?(files: readonly string[], onChange: () => void): { close(): void };
  /** Keeps a timer from holding the process open (Deno.unrefTimer, a Bun timer's unref). */
  unref?(timer: ReturnType<typeof setInterval>): void;
}

/**
 * Creates the transport, or records why it cannot (under `request.at`) and returns undefined.
 * @example createPemFetchTransport({ request, context, connect: (id) => { const client = Deno.createHttpClient({ cert: id.certPem, key: id.keyPem }); return { fetch: (i, init) => fetch(i, { ...init, client }), close: () => client.close() }; } })
 */
export async function createPemFetchTransport(options: PemFetchTransportOptions): Promise<IdentityTransport | undefined> {
  const { request, context } = options;
  const { mtls, at, settings } = request;
  const read = () => readPemIdentity(mtls, at, context.problems.source, new Date(context.now()));
  let identity: PemIdentity;
  try {
    identity = await read();
  } catch (error) {
    context.problems.add((error as Error).message);
    return undefined;
  }
  const expiry: ExpiryContext = { labels: request.labels, path: at, warnDays: mtls.warnDays, metrics: context.metrics, log: context.log };
  reportExpiry({ notAfter: identity.notAfter, thumbprint: identity.thumbprint }, expiry, context.now());

  // The attempt's deadline, headers and body, as on Node (edge fetches have no separate connect, headers and body phases).
  const timeoutMs = settings.timeouts.totalMs;
  let current = options.connect(identity);
  const retired = new Map<ReturnType<typeof setTimeout>, IdentityClient>();

  const presenting: typeof fetch = async (input, init) => {
    const presented = identity;
    try {
      return await current.fetch(input, init);
    } catch (error) {
      const signal = init?.signal ?? (input instanceof Request ? input.signal : undefined) ?? undefined;
      throw options.translateError ? await options.translateError(error, input, presented, signal) : error;
    }
  };
  const transport = createFetchTransport({
    bank: request.bank,
    fetch: presenting,
    maxResponseBytes: settings.maxResponseBytes,
    timeoutMs,
    ...(request.signing ? { signing: request.signing } : {}),
  });

  let pending = Promise.resolve();
  async function reload(): Promise<void> {
    let next: PemIdentity;
    try {
      next = await read();
    } catch (error) {
      context.log.error('bank.certificate.rotation_failed', { ...request.labels, path: at, problem: (error as Error).message, keeping: identity.thumbprint });
      return;
    }
    if (next.thumbprint === identity.thumbprint) return;
    const previous = { identity, client: current };
    identity = next;
    current = options.connect(next);
    // Calls in flight finish on the old client; it is closed once they cannot be running any more.
    const timer = setTimeout(() => {
      retired.delete(timer);
      void previous.client.close();
    }, timeoutMs);
    options.unref?.(timer);
    retired.set(timer, previous.client);
    context.log.info('bank.certificate.rotated', { ...request.labels, path: at, from: previous.identity.thumbprint, to: next.thumbprint, notAfter: next.notAfter.toISOString() });
    reportExpiry({ notAfter: next.notAfter, thumbprint: next.thumbprint }, expiry, context.now());
  }
  const reloadSerially = () => (pending = pending.then(reload));

  const hourly = setInterval(() => reportExpiry({ notAfter: identity.notAfter, thumbprint: identity.thumbprint }, expiry, context.now()), HOUR_MS);
  options.unref?.(hourly);
  const files = fileRefs(mtls);
  let debounce: ReturnType<typeof setTimeout> | undefined;
  const watcher =
    mtls.watch && files.length > 0 && options.watch
      ? options.watch(files, () => {
          // A certificate and its key are replaced one after the other: let the changes settle.
          if (debounce !== undefined) clearTimeout(debounce);
          debounce = setTimeout(() => void reloadSerially(), mtls.reloadDebounceMs);
        })
      : undefined;

  return {
    send: transport.send,
    fetch: transport.fetch,
    clientCertificateThumbprint: () => identity.thumbprint,
    reloadCertificates: reloadSerially,
    async close() {
      clearInterval(hourly);
      if (debounce !== undefined) clearTimeout(debounce);
      watcher?.close();
      await pending;
      for (const timer of retired.keys()) clearTimeout(timer);
      await Promise.all([...retired.values(), current].map((client) => client.close()));
      retired.clear();
    },
  };
}

/** The files an identity is read from (what rotation watches). */
function fileRefs(mtls: FileMtlsConfig): string[] {
  const refs = mtls.kind === 'pkcs12' ? [mtls.pfx] : [mtls.cert, mtls.key, mtls.chain];
  return [...new Set(refs.flatMap((ref) => (ref !== undefined && 'file' in ref ? [ref.file] : [])))];
}
