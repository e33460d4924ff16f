/**
 * The default transport of a configured bank on Node: undici with its QWAC (hot-rotated), pinned CA and
 * signing key, per-API certificates where `apis.<api>.mtls` overrides the bank's, wrapped in retries and
 * the circuit breaker of `banks.<bank>.transport`.
 */
import type { ResolvedBank } from '../config/resolve-config.js';
import type { Logger } from '../log.js';
import type { MetricsRegistry } from '../observability/metrics.js';
import { manageCertificate, type CertificateRotation } from './certificate-rotation.js';
import { createNodeTransport, type NodeTransport } from './node-transport.js';
import type { ResolvedTls } from './resolve-tls.js';
import { withResilience } from './resilient-transport.js';
import type { BankRequest, BankTransport } from './types.js';

export interface BankTransportContext {
  readonly metrics: MetricsRegistry;
  readonly log: Logger;
}

/** A bank transport whose certificates can also be re-read on demand (tests, an operator's signal handler). */
export interface ConfiguredBankTransport extends BankTransport {
  readonly clientCertificateThumbprint: () => string;
  /** Re-reads every certificate file of the bank now, as a file change would. */
  reloadCertificates(): Promise<void>;
}

interface Route {
  readonly origin: string;
  /** The API's base path, without a trailing slash. */
  readonly prefix: string;
  readonly transport: NodeTransport;
}

export function createBankTransport(bank: ResolvedBank, context?: BankTransportContext): ConfiguredBankTransport {
  const settings = bank.transport;
  const rotations: CertificateRotation[] = [];
  const transports: NodeTransport[] = [];

  function nodeTransport(tls: ResolvedTls, labels: Record<string, string>): NodeTransport {
    const transport = createNodeTransport({
      bank: bank.name,
      tls: { identity: tls.identity, ...(tls.ca ? { ca: tls.ca } : {}), ...(tls.servername ? { servername: tls.servername } : {}) },
      timeouts: settings.timeouts,
      maxResponseBytes: settings.maxResponseBytes,
      keepAliveMs: settings.keepAliveMs,
      acceptCompressed: settings.acceptCompressed,
      ...(bank.signing
        ? {
            signing: {
              keyId: bank.signing.keyId,
              key: bank.signing.key,
              ...(bank.signing.keyPassphrase !== undefined ? { passphrase: bank.signing.keyPassphrase } : {}),
              ...(bank.signing.certificate !== undefined ? { certificate: bank.signing.certificate } : {}),
              ...(bank.signing.headers ? { headers: bank.signing.headers } : {}),
            },
          }
        : {}),
    });
    transports.push(transport);
    rotations.push(manageCertificate(transport, tls, { labels, metrics: context?.metrics, log: context?.log }));
    return transport;
  }

  const main = nodeTransport(bank.tls, { bank: bank.name });
  // Longest base path first, so that /v1/pis wins over /v1 on a shared origin.
  const routes: Route[] = [...bank.apis.values()]
    .filter((api) => api.tls !== undefined)
    .map((api) => ({ origin: api.baseUrl.origin, prefix: api.baseUrl.pathname.replace(/\/$/, ''), transport: nodeTransport(api.tls!, { bank: bank.name, api: api.name }) }))
    .sort((a, b) => b.prefix.length - a.prefix.length);

  const routed: BankTransport =
    routes.length === 0
      ? main
      : {
          send: (request) => transportFor(request, routes, main).send(request),
          fetch: main.fetch,
          close: main.close,
        };

  const resilient = withResilience(routed, {
    bank: bank.name,
    retries: settings.retries,
    idempotencyKeyHeader: settings.idempotencyKeyHeader,
    breaker: settings.breaker,
    metrics: context?.metrics,
    log: context?.log,
  });

  return {
    send: resilient.send,
    // Token endpoints use the bank's own certificate, never an API override.
    fetch: main.fetch,
    clientCertificateThumbprint: main.clientCertificateThumbprint,
    reloadCertificates: async () => {
      await Promise.all(rotations.map((r) => r.reload()));
    },
    async close() {
      for (const rotation of rotations) rotation.close();
      await Promise.all(transports.map((t) => t.close()));
    },
  };
}

function transportFor(request: BankRequest, routes: readonly Route[], fallback: NodeTransport): NodeTransport {
  for (const route of routes) {
    if (request.origin !== route.origin || !request.path.startsWith(route.prefix)) continue;
    const next = request.path.charCodeAt(route.prefix.length);
    // `/v1/pis` must not claim `/v1/pisx`: the prefix ends at a segment boundary.
    if (Number.isNaN(next) || next === 47 /* / */ || next === 63 /* ? */) return route.transport;
  }
  return fallback;
}
