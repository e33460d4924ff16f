import { BankgateError } from '../errors/bankgate-error.js';

/**
 * Checks a connection's `returnTo` (where the PSU's browser goes after the consent): parsed as a URL, never
 * pattern-matched, http(s) without user or password, and on an allowed origin: the gateway's own, or one of
 * `returnToOrigins` (config). Anything else is a 400 naming the fix: the gateway never redirects a PSU, fresh from
 * their bank, to an address a caller made up (an open redirect in the middle of a consent).
 */
export function checkReturnTo(returnTo: string, allowedOrigins: readonly string[], gatewayUrl: string): URL {
  let url: URL;
  try {
    url = new URL(returnTo);
  } catch {
    throw new BankgateError('bad_request', { status: 400, detail: 'returnTo must be an absolute http(s) URL' });
  }
  if ((url.protocol !== 'https:' && url.protocol !== 'http:') || url.username !== '' || url.password !== '') {
    throw new BankgateError('bad_request', { status: 400, detail: 'returnTo must be an absolute http(s) URL without user or password' });
  }
  const allowed = new Set([new URL(gatewayUrl).origin, ...allowedOrigins.map((origin) => new URL(origin).origin)]);
  if (!allowed.has(url.origin)) {
    throw new BankgateError('bad_request', {
      status: 400,
      detail: `returnTo's origin ${url.origin.slice(0, 100)} is not allowed; add it to returnToOrigins in the gateway config (allowed: ${[...allowed].join(', ')})`,
    });
  }
  return url;
}
