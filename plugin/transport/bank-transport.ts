/**
 * The transport of a configured bank, on any runtime: the runtime's transport for the bank's QWAC, one more
 * per API whose `apis.<api>.mtls` overrides it (chosen by the request's base path), wrapped in the retries
 * and circuit breaker of `banks.<bank>.transport`. Token endpoints always use the bank's own certificate.
 */
import type { ResolvedBank } from '../config/resolve-config.js';
import type { IdentityTransport, Runtime, RuntimeTransportContext } from '../runtime.js';
import { withResilience } from './resilient-transport.js';
import type { BankRequest, BankTransport } from './types.js';

/** A bank transport whose certificates can also be re-read on demand (tests, an operator's signal handler). */
export interface ConfiguredBankTransport extends BankTransport {
  /** Re-reads every certificate of the bank now, as a file change would (a no-op where the runtime cannot). */
  reloadCertificates(): Promise<void>;
}

interface Route {
  readonly origin: string;
  /** The API's base path, without a trailing slash. */
  readonly prefix: string;
  readonly transport: IdentityTransport;
}

/**
 * Creates the bank's transport through `runtime.transport`. Problems (unreadable certificates, …) are
 * recorded in `context.problems`; the result is undefined then, and nothing is left open.
 */
export async function createBankTransport(bank: ResolvedBank, runtime: Pick<Runtime, 'transport'>, context: RuntimeTransportContext): Promise<ConfiguredBankTransport | undefined> {
  const request = { bank: bank.name, settings: bank.transport, ...(bank.signing ? { signing: bank.signing } : {}) };
  const main = await runtime.transport({ ...request, at: `banks.${bank.name}.mtls`, mtls: bank.mtls, labels: { bank: bank.name } }, context);
  const routes: Route[] = [];
  let failed = main === undefined;
  for (const api of bank.apis.values()) {
    if (!api.mtls) continue;
    const transport = await runtime.transport({ ...request, at: `banks.${bank.name}.apis.${api.name}.mtls`, mtls: api.mtls, labels: { bank: bank.name, api: api.name } }, context);
    if (transport === undefined) failed = true;
    else routes.push({ origin: api.baseUrl.origin, prefix: api.baseUrl.pathname.replace(/\/$/, ''), transport });
  }
  const parts = [...(main ? [main] : []), ...routes.map((r) => r.transport)];
  if (failed || main === undefined) {
    await Promise.all(parts.map((t) => t.close()));
    return undefined;
  }
  // Longest base path first, so that /v1/pis wins over /v1 on a shared origin.
  routes.sort((a, b) => b.prefix.length - a.prefix.length);

  const routed: BankTransport =
    routes.length === 0
      ? main
      : {
          send: (request) => transportFor(request, routes, main).send(request),
          fetch: main.fetch,
          close: main.close,
        };

  const settings = bank.transport;
  const resilient = withResilience(routed, {
    bank: bank.name,
    retries: settings.retries,
    idempotencyKeyHeader: settings.idempotencyKeyHeader,
    breaker: settings.breaker,
    metrics: context.metrics,
    log: context.log,
  });

  return {
    send: resilient.send,
    // Token endpoints use the bank's own certificate, never an API override.
    fetch: main.fetch,
    ...(main.clientCertificateThumbprint ? { clientCertificateThumbprint: main.clientCertificateThumbprint } : {}),
    reloadCertificates: async () => {
      await Promise.all(parts.map((t) => t.reloadCertificates?.()));
    },
    async close() {
      await Promise.all(parts.map((t) => t.close()));
    },
  };
}

function transportFor(request: BankRequest, routes: readonly Route[], fallback: IdentityTransport): IdentityTransport {
  for (const route of routes) {
    if (request.origin !== route.origin || !request.path.startsWith(route.prefix)) continue;
    const next = request.path.charCodeAt(route.prefix.length);
    // `/v1/pis` must not claim `/v1/pisx`: the prefix ends at a segment boundary.
    if (Number.isNaN(next) || next === 47 /* / */ || next === 63 /* ? */) return route.transport;
  }
  return fallback;
}
