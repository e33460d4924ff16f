/**
 * The one check on where a request goes. The origin comes from config and the path from the route template,
 * never from the caller; this guards the invariant anyway: HTTPS only, an origin without path, and a path
 * that cannot be read as another authority (`//evil.example/…`) once joined.
 */
import { BankgateError } from '../errors/bankgate-error.js';

export function checkedTarget(bank: string, origin: string, path: string): string {
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
  return origin + path;
}
