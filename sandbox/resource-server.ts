/**
 * The request pipeline both sandbox resource servers run, in the order a bank checks:
 * route known (404) → required headers and query parameters (400) → X-Request-ID is a UUID (400) →
 * bearer token valid (401) → token kind and scope cover the operation (403) → bank-specific checks (SG:
 * certificate binding, signature) → the operation's handler. Every request is recorded in the stats.
 * mTLS itself is enforced by the HTTPS server (`requestCert` + `rejectUnauthorized`), before any of this runs.
 * Armed `target: 'resource'` faults (faults.ts) apply first: delay, status, close, drop-response, gzip.
 * A closed or dropped call is not recorded in the stats: the bank never answered it.
 */
import { getRequestListener, type HttpBindings } from '@hono/node-server';
import { Hono, type Context } from 'hono';
import type Provider from 'oidc-provider';
import type { RouteManifest } from '../plugin/manifest/types.js';
import { resolveBearerToken, type BearerToken } from './bearer-token.js';
import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import type { FaultRegistry } from './faults.js';
import type { RequestHandler } from './listen.js';
import { createRouteTable, type ResourceApi, type RouteMatch } from './route-table.js';
import type { BankName, SandboxStats } from './stats.js';
import { peerThumbprint } from './tls.js';

export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

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
  /**
   * A last look at every answer, the pipeline's own errors included, before it is recorded and sent (UK-OB-like:
   * play back `x-fapi-interaction-id`, sign payment responses). Not called for a closed or dropped call.
   */
  finish?(request: { readonly method: string; readonly target: string; readonly headers: Headers }, response: Response): Response | Promise<Response>;
  /** Handlers by operationId; an operation without one answers 501 (the spec grew, the sandbox did not). */
  readonly operations: Readonly<Record<string, (request: OperationRequest) => Response | Promise<Response>>>;
}

/** Required header and query parameters the request lacks (or an enum query value it breaks), as `header X-Request-ID`. */
export function missingParams(route: RouteManifest, headers: Headers, query: URLSearchParams): string[] {
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
  /** Fault rules armed through the control plane; none when absent. */
  faults?: FaultRegistry;
}): RequestHandler {
  const { profile, provider, origin } = options;
  const table = createRouteTable(options.apis);

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

  return createBankRequestListener({
    bank: profile.bank,
    error: profile.error,
    stats: options.stats,
    faults: options.faults,
    run,
    finish: profile.finish?.bind(profile),
  });
}

/**
 * What every sandbox resource server does around its own pipeline: consume armed `target: 'resource'` faults
 * (close, delay, status, drop-response, gzip), turn a thrown error into the bank's 500, and record the call in
 * the stats. `run` answers the request (its Hono context gives the raw request and the socket).
 */
export function createBankRequestListener(options: {
  bank: BankName;
  error: BankResourceProfile['error'];
  stats: SandboxStats;
  faults?: FaultRegistry;
  run(c: Context<{ Bindings: HttpBindings }>, target: string, thumbprint: string | undefined): Promise<Response>;
  finish?: BankResourceProfile['finish'];
}): RequestHandler {
  const { bank, error, stats, faults, run, finish } = options;
  const app = new Hono<{ Bindings: HttpBindings }>();
  app.all('*', async (c) => {
    const incoming = c.env.incoming;
    const target = incoming.url ?? '/';
    const thumbprint = peerThumbprint(incoming.socket);
    const fault = faults?.take(bank, 'resource', { path: target.split('?')[0], method: c.req.method });
    if (fault?.action === 'close') return hangUp(incoming.socket);
    if (fault?.action === 'delay') await new Promise((resolve) => setTimeout(resolve, fault.delayMs ?? 1_000));
    let response: Response;
    try {
      response =
        fault?.action === 'status'
          ? error('internal', fault.status ?? 503, `sandbox fault: the bank answers ${fault.status ?? 503} without doing the work`, target)
          : await run(c, target, thumbprint);
    } catch (thrown) {
      response = error('internal', 500, `sandbox error: ${thrown instanceof Error ? thrown.message : String(thrown)}`, target);
    }
    if (finish) response = await finish({ method: c.req.method, target, headers: c.req.raw.headers }, response);
    if (fault?.action === 'drop-response') return hangUp(incoming.socket);
    if (fault?.action === 'gzip') response = await gzipped(response);
    stats.resourceCall({
      bank,
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

const gzipAsync = promisify(gzip);

/** The same answer, compressed as a bank with compression switched on sends it (whatever the client asked). */
async function gzipped(response: Response): Promise<Response> {
  const body = await gzipAsync(new Uint8Array(await response.arrayBuffer()));
  const headers = new Headers(response.headers);
  headers.set('content-encoding', 'gzip');
  headers.delete('content-length');
  return new Response(body, { status: response.status, headers });
}

/** Ends the connection without an answer: the client sees the socket close mid-request. */
function hangUp(socket: { destroy(): void }): Response {
  socket.destroy();
  // node-server writes this to a destroyed socket, which is a no-op.
  return new Response(null, { status: 204 });
}
