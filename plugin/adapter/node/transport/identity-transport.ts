/**
 * `nodeRuntime().transport`: one client identity on Node. Reads and checks the mtls block (PEM files or env
 * vars, PKCS#12, the pinned CA; expired, not yet valid, a key that is not the certificate's), then serves it
 * over undici with hot rotation of the certificate files and the expiry gauge. Problems go to the collector
 * under their paths; the core adds routing, retries and the breaker.
 */
import { BankgateError } from '../../../errors/bankgate-error.js';
import type { IdentityTransport, IdentityTransportRequest, RuntimeTransportContext } from '../../../runtime.js';
import { manageCertificate } from './certificate-rotation.js';
import { createNodeTransport } from './node-transport.js';
import { resolveTls } from './resolve-tls.js';

export function createIdentityTransport(request: IdentityTransportRequest, context: RuntimeTransportContext): IdentityTransport | undefined {
  if (request.mtls.kind === 'binding') {
    context.problems.add(`${request.at}.binding: ${request.mtls.binding} is a platform binding (Cloudflare Workers mtls_certificates), which the node runtime does not have; give the certificate as cert + key (PEM) or pfx (PKCS#12)`);
    return undefined;
  }
  const tls = resolveTls(request.mtls, request.at, context.problems, new Date(context.now()));
  if (!tls) return undefined;
  const { settings } = request;
  let transport;
  try {
    transport = createNodeTransport({
      bank: request.bank,
      tls: { identity: tls.identity, ...(tls.ca ? { ca: tls.ca } : {}), ...(tls.servername ? { servername: tls.servername } : {}) },
      timeouts: settings.timeouts,
      maxResponseBytes: settings.maxResponseBytes,
      keepAliveMs: settings.keepAliveMs,
      acceptCompressed: settings.acceptCompressed,
      ...(request.signing ? { signing: request.signing } : {}),
    });
  } catch (error) {
    if (!(error instanceof BankgateError) || error.code !== 'config_invalid') throw error;
    context.problems.add(error.message);
    return undefined;
  }
  const rotation = manageCertificate(transport, tls, { labels: request.labels, metrics: context.metrics, log: context.log });
  return {
    send: transport.send,
    fetch: transport.fetch,
    clientCertificateThumbprint: transport.clientCertificateThumbprint,
    reloadCertificates: rotation.reload,
    async close() {
      rotation.close();
      await transport.close();
    },
  };
}
