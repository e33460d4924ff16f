/**
 * Where the gateway is mounted. A host app mounts it with `host.route('/banks', gateway.app)` (Hono registers the
 * gateway's routes under `/banks`), or a standalone gateway is built with `basePath: '/banks'`. Either way the
 * gateway must know the prefix per request: bank operations are matched on the path after it, and every URL it
 * hands out (the consent redirect URI, `Location`, links in bank answers, `/openapi.json`, `/docs`) carries it.
 * Hono tells a middleware the route it runs under (`c.req.routePath`: `/banks/*` for the gateway's first
 * `use('*')` when mounted at `/banks`), so nothing has to be configured twice.
 */
import type { Context } from 'hono';
import { createMiddleware } from 'hono/factory';
import { BankgateError } from '../errors/bankgate-error.js';
import { rawPathOf } from './path-guard.js';

export interface MountPrefixVariables {
  /** The prefix the gateway answers under, as the client sent it (`''` at the root, `/banks` when mounted). */
  mountPrefix: string;
}

/** How many path segments a mount template spans (`/banks/*` → 1, `/*` → 0); cached per template. */
const segmentCounts = new Map<string, number>();

/**
 * The first middleware of the gateway's app: sets `c.var.mountPrefix` from the route it runs under. The prefix
 * is cut from the request target the client sent (not the decoded path), so what follows it is exactly what the
 * path guard checks.
 */
export function mountPrefix() {
  return createMiddleware<{ Variables: MountPrefixVariables }>(async function bankgateMountPrefix(c, next) {
    // `c.req.routePath`, not `routePath(c)` of 'hono/route': the helper reads a symbol private to its copy of
    // hono, and a host app often runs another copy than bankgate's; the request's own getter works across them.
    c.set('mountPrefix', prefixOf(c.req.routePath, rawPathOf(requestTarget(c))));
    return next();
  });
}

/**
 * The part of `path` a mount template (`/banks/*`, `/t/:tenant/*`, `/*`) matched: as many segments of `path` as
 * the template has before its final `*`. Parameters in the template take the request's values.
 */
export function prefixOf(routePath: string, path: string): string {
  let count = segmentCounts.get(routePath);
  if (count === undefined) {
    count = routePath.replace(/\/?\*$/, '').split('/').filter(Boolean).length;
    if (segmentCounts.size < 64) segmentCounts.set(routePath, count);
  }
  if (count === 0) return '';
  let end = 0;
  for (let i = 0; i < count; i++) {
    const next = path.indexOf('/', end + 1);
    end = next === -1 ? path.length : next;
  }
  return path.slice(0, end);
}

/**
 * The request target as the client sent it, so that no `..` was normalised away before the guard: Node's
 * server (`@hono/node-server`) hands its `IncomingMessage` over as `c.env.incoming`; elsewhere, the URL.
 */
export function requestTarget(c: Context): string {
  const incoming = (c.env as { incoming?: { url?: string } } | undefined)?.incoming;
  if (incoming?.url !== undefined) return incoming.url;
  const url = new URL(c.req.url);
  return url.pathname + url.search;
}

/**
 * Checks a configured base path (`basePath` option, `BANKGATE_BASE_PATH`): `''` or `/seg[/seg…]`, no trailing
 * slash, plain segment characters. Returns it normalised; throws `config_invalid` naming `name`.
 */
export function checkBasePath(value: string | undefined, name = 'basePath'): string {
  if (value === undefined || value === '' || value === '/') return '';
  const trimmed = value.replace(/\/+$/, '');
  if (!/^(\/[A-Za-z0-9._~-]+)+$/.test(trimmed) || trimmed.split('/').some((segment) => segment === '.' || segment === '..')) {
    throw new BankgateError('config_invalid', {
      status: 500,
      detail: `${name}: ${JSON.stringify(value.slice(0, 100))} is not a path prefix; write it like "/banks" (segments of letters, digits, ".", "_", "~" or "-")`,
    });
  }
  return trimmed;
}
