/**
 * `workersRuntime().transport`: one client identity on Cloudflare Workers, where the QWAC lives in the
 * platform: an `mtls_certificates` binding (`mtls: { binding: 'QWAC_SEB' }`) is a `Fetcher` that presents
 * its certificate on every call. One certificate per binding, fixed at deploy (a new certificate is a new
 * deploy); the TLS stack and its trust store are the platform's. A configured binding that is not in the
 * Worker's env, or an mtls block that gives the certificate itself (the Worker could not present it),
 * refuses to start: never a call without the certificate. With `certificate` (the public PEM) the thumbprint
 * (certificate-bound tokens) and the expiry warning work as elsewhere.
 */
import { readSecretRef } from '../../config/secret-ref.js';
import type { IdentityTransport, IdentityTransportRequest, RuntimeTransportContext } from '../../runtime.js';
import { reportExpiry } from '../../transport/certificate-expiry.js';
import { probeBudgetMs } from '../../transport/defaults.js';
import { createFetchTransport } from '../../transport/fetch-transport.js';
import { HandshakeRejectedError } from '../../transport/transport-errors.js';
import { certificateValidity } from '../../transport/pem-identity.js';
import { isFetcher, type Fetcher, type WorkersEnv } from './workers-api.js';

export function workersTransport(env: WorkersEnv) {
  return async function createWorkersIdentityTransport(request: IdentityTransportRequest, context: RuntimeTransportContext): Promise<IdentityTransport | undefined> {
    const { mtls, at, settings } = request;
    if (mtls.kind !== 'binding') {
      const given = mtls.kind === 'pkcs12' ? 'pfx' : 'cert';
      context.problems.add(
        `${at}.${given}: the workers runtime cannot present a client certificate it is given (Workers' fetch has no client-certificate option); ` +
          `upload the QWAC (wrangler mtls-certificate upload --cert qwac.pem --key qwac-key.pem --name qwac-${request.bank}), bind it in wrangler.jsonc ` +
          `(mtls_certificates: [{ binding: 'QWAC_${request.bank.toUpperCase()}', certificate_id: '…' }]) and write ${at}: { binding: 'QWAC_${request.bank.toUpperCase()}' }`,
      );
      return undefined;
    }
    const binding = env[mtls.binding];
    if (!isFetcher(binding)) {
      context.problems.add(`${at}.binding: ${mtls.binding} is not bound in this Worker: add it to mtls_certificates in wrangler.jsonc (binding: '${mtls.binding}', certificate_id of the uploaded QWAC)`);
      return undefined;
    }
    let thumbprint: string | undefined;
    if (mtls.certificate) {
      let validity;
      try {
        validity = await certificateValidity(readSecretRef(mtls.certificate, `${at}.certificate`, context.problems.source));
      } catch (error) {
        context.problems.add((error as Error).message);
        return undefined;
      }
      if (!validity) {
        context.problems.add(`${at}.certificate: holds no readable PEM certificate (-----BEGIN CERTIFICATE-----)`);
        return undefined;
      }
      thumbprint = validity.thumbprint;
      reportExpiry({ notAfter: validity.notAfter, thumbprint }, { labels: request.labels, path: at, warnDays: mtls.warnDays, metrics: context.metrics, log: context.log }, context.now());
    }
    const transport = createFetchTransport({
      bank: request.bank,
      fetch: async (input, init) => {
        try {
          return await binding.fetch(input, init);
        } catch (error) {
          const signal = init?.signal ?? (input instanceof Request ? input.signal : undefined) ?? undefined;
          throw await explainLostConnection(error, input, binding, probeBudgetMs(settings.timeouts.connectMs), signal);
        }
      },
      maxResponseBytes: settings.maxResponseBytes,
      timeoutMs: settings.timeouts.totalMs,
      ...(request.signing ? { signing: request.signing } : {}),
    });
    return { ...transport, clientCertificateThumbprint: () => thumbprint };
  };
}

const LOST = /network connection lost/i;

/** A connection workerd lost without the bank refusing the handshake: Node's `ECONNRESET` (bank_unreachable). */
export class ConnectionLostError extends Error {
  readonly code = 'ECONNRESET';
  constructor(cause: Error) {
    super('the connection to the bank was lost before its answer', { cause });
    this.name = 'ConnectionLostError';
  }
}

/**
 * workerd reports a bank that closes the connection right after the TLS handshake (how TLS 1.3 servers refuse
 * a client certificate without an alert) as `Network connection lost.`, like any dropped connection. One
 * probe through the same binding tells them apart: a bank that also drops a fresh `HEAD /` without a byte of
 * answer refused the certificate (`HandshakeRejectedError` → `bank_tls_error`); otherwise the connection was
 * lost like a reset on Node (`ECONNRESET` → `bank_unreachable`; for a refresh, an unknown outcome: the request
 * may have reached the bank). The probe takes `timeoutMs` (`probeBudgetMs`) at most, and stops when the failed call's
 * `signal` aborts: no verdict is a lost connection.
 */
async function explainLostConnection(error: unknown, input: RequestInfo | URL, binding: Fetcher, timeoutMs: number, signal: AbortSignal | undefined): Promise<unknown> {
  if (!(error instanceof Error) || !LOST.test(error.message)) return error;
  if (signal?.aborted) return new ConnectionLostError(error);
  const origin = new URL(input instanceof Request ? input.url : String(input)).origin;
  try {
    const budget = AbortSignal.timeout(timeoutMs);
    const answer = await binding.fetch(`${origin}/`, { method: 'HEAD', signal: signal ? AbortSignal.any([signal, budget]) : budget });
    await answer.body?.cancel();
    return new ConnectionLostError(error);
  } catch (probe) {
    return probe instanceof Error && LOST.test(probe.message) ? new HandshakeRejectedError('TLS', error) : new ConnectionLostError(error);
  }
}
