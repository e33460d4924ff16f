/**
 * Client certificate expiry, made visible before it breaks a bank: the `bankgate_client_certificate_expiry_days`
 * gauge (fractional days left; negative once expired) and a warning log within `warnDays`, at start, on every
 * rotation and hourly while running.
 */
import type { Logger } from '../log.js';
import type { MetricsRegistry } from '../observability/metrics.js';

export const EXPIRY_METRIC = 'bankgate_client_certificate_expiry_days';
const DAY_MS = 86_400_000;

export interface ExpiryContext {
  readonly labels: Readonly<Record<string, string>>;
  /** Config path named in the log (`banks.sg.mtls`). */
  readonly path: string;
  readonly warnDays: number;
  readonly metrics?: MetricsRegistry;
  readonly log?: Logger;
}

/** What expiry reporting reads of a client certificate, whatever the runtime's form of it. */
export interface ExpiringCertificate {
  readonly notAfter: Date;
  /** `x5t#S256`, named in the log line. */
  readonly thumbprint: string;
}

/** Days left (two decimals) and whether that is within `warnDays`. */
export function daysLeft(identity: ExpiringCertificate, now: number): number {
  return Math.floor(((identity.notAfter.getTime() - now) / DAY_MS) * 100) / 100;
}

export function reportExpiry(identity: ExpiringCertificate, context: ExpiryContext, now = Date.now()): void {
  const days = daysLeft(identity, now);
  context.metrics?.describe(EXPIRY_METRIC, 'gauge', 'Days until the client certificate (QWAC) presented to the bank expires');
  context.metrics?.set(EXPIRY_METRIC, context.labels, days);
  const fields = { ...context.labels, path: context.path, thumbprint: identity.thumbprint, notAfter: identity.notAfter.toISOString(), daysLeft: days };
  if (days <= 0) context.log?.error('bank.certificate.expired', { ...fields, fix: `renew the QWAC and replace the files of ${context.path}` });
  else if (days <= context.warnDays) context.log?.warn('bank.certificate.expiring', { ...fields, warnDays: context.warnDays, fix: `renew the QWAC before it expires and replace the files of ${context.path}` });
}
