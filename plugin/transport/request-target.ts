/**
 * The one check on where a request goes. The origin comes from config and the path from the route template,
 * never from the caller; this guards the invariant anyway: HTTPS only, an origin without path, and a path
 * that cannot be read as another authority (`//evil.example/…`) once joined.
 */
import { BankgateError } from '../errors/bankgate-error.js';

const checkedOrigins = new Set<string>();

/** The URL of the request, once `assertTarget` let it through. */
export function checkedTarget(bank: string, origin: string, path: string): string {
  assertTarget(bank, origin, path);
  return origin + path;
}

/** Throws `internal_error` (500) unless `origin` + `path` is an https URL at exactly that origin. */
export function assertTarget(bank: string, origin: string, path: string): void {
  if (path.startsWith('/') && !path.startsWith('//') && checkedOrigins.has(origin)) return;
  let url: URL | undefined;
  try {
    url = new URL(origin + path);
  } catch {
    url = undefined;
  }
  if (url === undefined || url.protocol !== 'https:' || url.origin !== origin || !path.startsWith('/') || path.startsWith('//')) {
    throw new BankgateError('internal_error', {
      status: 500,
      bank,
      detail: `refusing to call bank ${bank}: the origin must be https://host[:port] and the path must start with a single /`,
    });
  }
  // An origin that parsed as exactly itself stays so: once its authority is closed by the path's single
  // leading "/", no path can open another one. Origins come from config, so the set stays small.
  if (checkedOrigins.size < 1024) checkedOrigins.add(origin);
}
