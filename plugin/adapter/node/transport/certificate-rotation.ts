/**
 * Hot rotation of a transport's client certificate: when its files change, re-read and validate them; a
 * good new certificate goes to new connections at once (calls in flight finish on the old ones), a bad one
 * (unreadable, key mismatch, expired) leaves the current identity in place and is logged as an error.
 * Certificate-bound tokens (RFC 8705) follow `clientCertificateThumbprint()`, which changes here.
 */
import type { Logger } from '../../../log.js';
import type { MetricsRegistry } from '../../../observability/metrics.js';
import { reportExpiry, type ExpiryContext } from '../../../transport/certificate-expiry.js';
import type { NodeTransport } from './node-transport.js';
import type { ResolvedTls } from './resolve-tls.js';
import { watchFiles, type FileWatch } from './watch-files.js';

const HOUR_MS = 3_600_000;

export interface RotationContext {
  readonly labels: Readonly<Record<string, string>>;
  readonly metrics?: MetricsRegistry;
  readonly log?: Logger;
}

export interface CertificateRotation {
  /** Re-reads the files now (what a file change triggers); resolves once the identity is swapped or kept. */
  reload(): Promise<void>;
  close(): void;
}

export function manageCertificate(transport: NodeTransport, tls: ResolvedTls, context: RotationContext): CertificateRotation {
  const expiry: ExpiryContext = { labels: context.labels, path: tls.at, warnDays: tls.warnDays, metrics: context.metrics, log: context.log };
  let current = tls.identity;
  reportExpiry(current, expiry);
  // Keeps the gauge moving (and warns) in a process that runs for weeks without a rotation.
  const hourly = setInterval(() => reportExpiry(current, expiry), HOUR_MS);
  hourly.unref();

  // A certificate and its key are replaced one after the other: a mismatch seen once is given one more
  // debounce period before it is reported.
  let retried = false;
  let pending = Promise.resolve();
  async function reload(): Promise<void> {
    let next;
    try {
      next = tls.reload();
    } catch (error) {
      if (!retried && tls.reloadDebounceMs > 0) {
        retried = true;
        setTimeout(() => void (pending = pending.then(reload)), tls.reloadDebounceMs).unref();
        return;
      }
      retried = false;
      context.log?.error('bank.certificate.rotation_failed', {
        ...context.labels,
        path: tls.at,
        problem: (error as Error).message,
        keeping: current.thumbprint,
      });
      return;
    }
    retried = false;
    if (next.thumbprint === current.thumbprint) return;
    const previous = current;
    current = next;
    const drained = transport.useClientIdentity(next);
    context.log?.info('bank.certificate.rotated', { ...context.labels, path: tls.at, from: previous.thumbprint, to: next.thumbprint, notAfter: next.notAfter.toISOString() });
    reportExpiry(next, expiry);
    await drained;
  }

  let watcher: FileWatch | undefined;
  if (tls.watch && tls.files.length > 0) {
    watcher = watchFiles({
      files: tls.files,
      debounceMs: tls.reloadDebounceMs,
      // Serialised: two quick changes never race two swaps.
      onChange: () => void (pending = pending.then(reload)),
      onError: (error) => context.log?.error('bank.certificate.watch_failed', { ...context.labels, path: tls.at, code: (error as NodeJS.ErrnoException).code }),
    });
  }

  return {
    reload: () => (pending = pending.then(reload)),
    close() {
      clearInterval(hourly);
      watcher?.close();
    },
  };
}
