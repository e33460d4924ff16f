import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import { context, type Span } from '@opentelemetry/api';
import { getRequestListener } from '@hono/node-server';
import type { Gateway, GatewayPipeline } from '../../gateway.js';
import { endServerSpan } from '../../observability/tracing.js';
import type { BankReply, InboundCall } from '../../surface/bank-call.js';
import { rawPathOf } from '../../surface/path-guard.js';
import { repeatedAuthorization } from '../../surface/caller-auth.js';
import { problemReply } from '../../surface/problem.js';
import { requestIdFor } from '../../surface/request-id.js';
import type { RouteMatch } from '../../surface/route-table.js';
import { inboundCall } from './inbound-call.js';
import { writeReply } from './write-reply.js';

/**
 * The gateway as a Node request listener, for `http.createServer`. Declared bank operations are served
 * straight from `IncomingMessage` to `ServerResponse` (no WHATWG Request/Response, no middleware chain),
 * through the same framing-free pipeline the Hono app uses (`gateway.pipeline`): request id, span, caller
 * authentication, then bank-call.ts. Everything else (consent, docs, metrics, health, 404s, 405s, rejected
 * paths) goes to the Hono app through @hono/node-server, so it answers exactly as `app.fetch` does.
 * @example http.createServer(createNodeHandler(await createGateway(config))).listen(3000);
 */
export function createNodeHandler(gateway: Gateway): RequestListener {
  const hono = getRequestListener(gateway.app.fetch);
  // A host app's caller hook reads the Hono context: with one, every request goes through the app.
  if (gateway.hostCallers) return hono;
  const prefix = gateway.basePath;
  // A bank named like one of the app's own first path segments (`connections`, `docs`, …) is Hono's to route,
  // as it is in the app: its own routes are registered before the bank calls.
  const honoFirstSegments = new Set(gateway.app.routes.map((r) => r.path.slice(prefix.length).split('/')[1]).filter((s): s is string => !!s && s !== '*' && !s.startsWith(':')));

  return function bankgateNodeHandler(req: IncomingMessage, res: ServerResponse): void {
    const target = underPrefix(req.url!, prefix);
    const found = target === undefined ? undefined : matchBankCall(gateway, req.method!, target);
    if (found === undefined || honoFirstSegments.has(found.mounted.bank.name)) {
      void hono(req, res);
      return;
    }
    void respond(gateway.pipeline, found, req, target!, prefix, res, requestIdFor(single(req.headers['x-request-id'])));
  };
}

/** The target after the gateway's `basePath` (`/banks/seb/…` → `/seb/…`), or undefined when it is not under it. */
function underPrefix(url: string, prefix: string): string | undefined {
  if (prefix === '') return url;
  if (!url.startsWith(prefix)) return undefined;
  const next = url.charCodeAt(prefix.length);
  return next === 47 /* / */ ? url.slice(prefix.length) : undefined;
}

/** The declared operation this request calls, or undefined when Hono should answer it (anything else, or an error). */
function matchBankCall(gateway: Gateway, method: string, target: string): RouteMatch | undefined {
  try {
    const found = gateway.pipeline.bankCalls.match(method, target);
    return found && !('allowed' in found) ? found : undefined;
  } catch {
    return undefined; // a rejected path: the app answers it, after authenticating the caller, as always
  }
}

async function respond(pipeline: GatewayPipeline, found: RouteMatch, req: IncomingMessage, target: string, prefix: string, res: ServerResponse, requestId: string): Promise<void> {
  const { span, context: active } = pipeline.startSpan(req.method!, rawPathOf(req.url!), 'bank call', req.headers);
  let status: number;
  try {
    const reply = await context.with(active, answer, undefined, pipeline, found, req, inboundCall(req, requestId, target, prefix), span);
    status = reply.status;
    reply.headers['x-request-id'] = requestId;
    writeReply(res, reply.status, reply.headers, reply.body);
  } catch (error) {
    const problem = problemReply(error, displayPath(req.url!), pipeline.log, requestId);
    status = problem.status;
    if (res.headersSent) res.destroy();
    else {
      // A body left unread (413) is not drained: the socket closes after the answer.
      if (!req.complete) res.shouldKeepAlive = false;
      writeReply(res, problem.status, { ...problem.headers, 'x-request-id': requestId }, problem.body);
    }
  }
  endServerSpan(span, status);
}

/** Authenticates the caller, then runs the bank call (a known key answers synchronously: nothing to await). */
function answer(pipeline: GatewayPipeline, found: RouteMatch, req: IncomingMessage, inbound: InboundCall, span: Span): Promise<BankReply> {
  const caller = pipeline.authenticate(authorizationOf(req));
  if (caller instanceof Promise) return caller.then((resolved) => pipeline.bankCalls.call(found, inbound, resolved, span));
  return pipeline.bankCalls.call(found, inbound, caller, span);
}

/**
 * The one `Authorization` header. Node keeps only the first of repeated ones in `req.headers`; the Hono
 * path sees them joined: both refuse two (`unauthorized`, reason `repeated`), so the framings agree.
 */
function authorizationOf(req: IncomingMessage): string | undefined {
  const first = req.headers.authorization;
  if (first === undefined) return undefined;
  const raw = req.rawHeaders;
  let seen = 0;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    if (name.length === 13 && name.toLowerCase() === 'authorization' && ++seen > 1) throw repeatedAuthorization();
  }
  return first;
}

function single(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value.join(', ') : value;
}

/** The path as Hono's `c.req.path` shows it (problem `instance`, span `url.path`): percent-decoded where that is safe. */
function displayPath(target: string): string {
  const path = rawPathOf(target);
  if (!path.includes('%')) return path;
  try {
    return decodeURI(path.replace(/%25/g, '%2525'));
  } catch {
    return path;
  }
}
