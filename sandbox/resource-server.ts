/**
 * The request pipeline both sandbox resource servers run, in the order a bank checks:
 * route known (404) → required headers and query parameters (400) → X-Request-ID is a UUID (400) →
 * bearer token valid (401) → token kind and scope cover the operation (403) → bank-specific checks (SG:
 * certificate binding, signature) → the operation's handler. Every request is recorded in the stats.
 * mTLS itself is enforced by the HTTPS server (`requestCert` + `rejectUnauthorized`), before any of this runs.
 */
import { getRequestListener, type HttpBindings } from '@hono/node-server';
import { Hono, type Context } from 'hono';
import type Provider from 'oidc-provider';
import type { RouteManifest } from '../plugin/manifest/types.js';
import { resolveBearerToken, type BearerToken } from './bearer-token.js';
import type { RequestHandler } from './listen.js';
import { createRouteTable, type ResourceApi, type RouteMatch } from './route-table.js';
import type { BankName, SandboxStats } from './stats.js';
import { peerThumbprint } from './tls.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** What a handler gets: the matched operation, the verified token, the request as received. */
export interface OperationRequest extends RouteMatch {
  readonly token: BearerToken;
  readonly method: string;
  /** Raw request target (path + query) as received. */
  readonly target: string;
  readonly url: URL;
  readonly headers: Headers;
  readonly body: Uint8Array;
  readonly clientCertThumbprint: string | undefined;
  /** `https://127.0.0.1:<port>`: for `_links` and `Location`. */
  readonly origin: string;
}

export type ErrorKind =
  | 'not_found'
  | 'format'
  | 'token_invalid'
  | 'scope'
  | 'certificate_binding'
  | 'signature'
  | 'internal';

export interface BankResourceProfile {
  readonly bank: BankName;
  /** The bank's error body and headers (Berlin Group tppMessages, STET ErrorModel, …). */
  error(kind: ErrorKind, status: number, message: string, target: string): Response;
  /** Checks after the token and scope (SG: certificate binding, signature); a Response refuses the call. */
  verify?(request: OperationRequest): Response | undefined | Promise<Response | undefined>;
  /** Handlers by operationId; an operation without one answers 501 (the spec grew, the sandbox did not). */
  readonly operations: Readonly<Record<string, (request: OperationRequest) => Response | Promise<Response>>>;
}

function missingParams(route: RouteManifest, headers: Headers, query: URLSearchParams): string[] {
  const missing = route.params.header.filter((p) => p.required && !headers.get(p.name)).map((p) => `header ${p.name}`);
  for (const p of route.params.query) {
    if (!p.required) continue;
    const value = query.get(p.name);
    if (value === null || value === '') missing.push(`query parameter ${p.name}`);
    else if (p.enum && !p.enum.includes(value)) missing.push(`query parameter ${p.name} (one of ${p.enum.join(', ')})`);
  }
  return missing;
}

export function createResourceServer(options: {
  profile: BankResourceProfile;
  apis: readonly ResourceApi[];
  provider: Provider;
  stats: SandboxStats;
  origin: string;
}): RequestHandler {
  const { profile, provider, stats, origin } = options;
  const table = createRouteTable(options.apis);
  const app = new Hono<{ Bindings: HttpBindings }>();

  async function run(c: Context<{ Bindings: HttpBindings }>, target: string, thumbprint: string | undefined): Promise<Response> {
    const url = new URL(target, origin);
    const match = table.match(c.req.method, url.pathname);
    if (!match) return profile.error('not_found', 404, `no operation ${c.req.method} ${url.pathname} in the ${profile.bank} APIs`, target);

    const headers = c.req.raw.headers;
    const missing = missingParams(match.route, headers, url.searchParams);
    if (missing.length > 0) return profile.error('format', 400, `missing or invalid ${missing.join(', ')}`, target);
    const requestId = headers.get('x-request-id');
    if (requestId !== null && !UUID.test(requestId)) return profile.error('format', 400, 'X-Request-ID must be a UUID', target);

    const resolved = await resolveBearerToken(provider, headers.get('authorization'));
    if (!resolved.ok) return profile.error('token_invalid', 401, resolved.reason, target);
    const { token } = resolved;
    if (match.route.tokenKind !== 'none' && token.kind !== match.route.tokenKind) {
      const wanted = match.route.tokenKind === 'client' ? 'a client-credentials token' : "a PSU's authorization-code token";
      return profile.error('scope', 403, `${match.route.operationId} needs ${wanted}`, target);
    }
    const absent = match.route.scopes.filter((scope) => !token.scopes.has(scope));
    if (absent.length > 0) return profile.error('scope', 403, `the access token lacks scope ${absent.join(' ')}`, target);

    const request: OperationRequest = {
      ...match,
      token,
      method: c.req.method,
      target,
      url,
      headers,
      body: new Uint8Array(await c.req.arrayBuffer()),
      clientCertThumbprint: thumbprint,
      origin,
    };
    const refused = await profile.verify?.(request);
    if (refused) return refused;
    const handler = profile.operations[match.route.operationId];
    if (!handler) return profile.error('internal', 501, `${match.route.operationId} is not implemented by the sandbox`, target);
    return handler(request);
  }

  app.all('*', async (c) => {
    const incoming = c.env.incoming;
    const target = incoming.url ?? '/';
    const thumbprint = peerThumbprint(incoming.socket);
    let response: Response;
    try {
      response = await run(c, target, thumbprint);
    } catch (error) {
      response = profile.error('internal', 500, `sandbox error: ${error instanceof Error ? error.message : String(error)}`, target);
    }
    stats.resourceCall({
      bank: profile.bank,
      method: c.req.method,
      path: target,
      headers: Object.fromEntries(c.req.raw.headers),
      clientCertThumbprint: thumbprint,
      status: response.status,
    });
    return response;
  });

  return getRequestListener(app.fetch) as RequestHandler;
}
