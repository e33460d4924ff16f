import type { IncomingMessage } from 'node:http';
import type { Context } from 'hono';
import { createMiddleware } from 'hono/factory';
import { BankgateError } from '../errors/bankgate-error.js';
import type { Logger } from '../log.js';
import type { MetricsRegistry } from '../observability/metrics.js';
import type { TokenEngine } from '../tokens/token-engine.js';
import type { BankResponse, BankTransport } from '../transport/types.js';
import { bankErrorToProblem } from './bank-error.js';
import { buildBankRequest, type BankHeaderPolicy } from './bank-request.js';
import type { TracingVariables } from '../observability/tracing.js';
import type { CallerAuthVariables } from './caller-auth.js';
import { rawPathOf, safePathSegments } from './path-guard.js';
import { allowsOperation } from './permissions.js';
import type { RequestIdVariables } from './request-id.js';
import type { RouteMatch, RouteTable } from './route-table.js';
import type { SpecValidator } from './validation/spec-validator.js';

/** Bank response headers that mean nothing to an internal caller, or that the runtime sets itself. */
const DROPPED_RESPONSE_HEADERS = new Set(['set-cookie', 'content-length', 'www-authenticate', 'strict-transport-security', 'alt-svc', 'server', 'x-request-id']);
const NULL_BODY_STATUS = new Set([101, 204, 205, 304]);

export interface BankRoutesOptions {
  readonly table: RouteTable;
  readonly engine: TokenEngine;
  readonly transports: ReadonlyMap<string, BankTransport>;
  readonly log: Logger;
  readonly metrics: MetricsRegistry;
  /** Per bank: static values for bank-mandated headers the gateway owns (`TPP-Redirect-URI`, …). */
  readonly headerPolicy: (bank: string) => BankHeaderPolicy;
  /** Checks requests (and, when asked, responses) against the bank's spec. */
  readonly validator?: SpecValidator;
}

type Env = { Variables: CallerAuthVariables & RequestIdVariables & TracingVariables };

/**
 * The bank-call middleware: matches `/{bank}/{api}{path}` against the declared operations, checks the
 * caller may use it and that the request is what the spec says, attaches the right token (the PSU's,
 * refreshed when needed, or the TPP's client-credentials one), and sends the call over the bank's
 * transport. A bank error becomes a problem with a stable code. Anything that is not a declared operation
 * falls through to `next()` (404).
 */
export function bankRoutes(options: BankRoutesOptions) {
  const { table, engine, transports, log, metrics, validator } = options;
  metrics.describe('bankgate_requests_total', 'counter', 'Bank calls through the gateway, by bank, API, operation and the status returned to the caller.');
  metrics.describe('bankgate_request_duration_seconds', 'histogram', 'Time from receiving a bank call to answering it, by bank, API and operation.');

  return createMiddleware<Env>(async function bankgateRoutes(c, next) {
    const segments = safePathSegments(rawPathOf(rawTarget(c)));
    const found = table.match(c.req.method, segments);
    if (!found) return next();
    if ('allowed' in found) {
      throw new BankgateError('method_not_allowed', { status: 405, detail: `${c.req.method} is not declared for this path; allowed: ${found.allowed.join(', ')}`, extra: { allowed: found.allowed } });
    }
    const { bank, api, route } = found.mounted;
    const labels = { bank: bank.name, api: api.name, operation: route.operationId };
    const span = c.get('span');
    span?.updateName(`${found.mounted.method} ${found.mounted.gatewayPath}`);
    span?.setAttributes({ 'http.route': found.mounted.gatewayPath, 'bankgate.bank': bank.name, 'bankgate.api': api.name, 'bankgate.operation': route.operationId });
    const started = performance.now();
    let status = 500;
    try {
      const caller = c.get('caller');
      if (!allowsOperation(caller.allow, bank.name, api.name, route.operationId)) {
        throw new BankgateError('forbidden', { status: 403, bank: bank.name, detail: `caller ${caller.id} may not use ${bank.name}/${api.name}/${route.operationId}` });
      }
      const url = new URL(c.req.url);
      const body = route.requestBody ? new Uint8Array(await c.req.arrayBuffer()) : undefined;
      validator?.checkRequest(found, { query: url.searchParams, header: (name) => c.req.header(name), body, contentType: c.req.header('content-type') });

      // The token engine may send twice: once more with a refreshed token after a 401 (idempotent calls only).
      let bankRequest!: ReturnType<typeof buildBankRequest>;
      const response = await callWithToken(found, c, engine, (bearer) => {
        bankRequest = buildBankRequest(found, { query: url.searchParams, header: (name) => c.req.header(name), body }, bearer, options.headerPolicy(bank.name));
        return transports.get(bank.name)!.send(bankRequest);
      });
      status = response.status;
      log.info('bank.call', { bank: bank.name, api: api.name, operationId: route.operationId, status: response.status, ms: Math.round(performance.now() - started), bankRequestId: bankRequest.requestId });
      if (response.status >= 400) {
        const problem = bankErrorToProblem(bank.name, route.operationId, response);
        status = problem.status;
        throw problem;
      }
      validator?.checkResponse(found, response);
      return toResponse(response, bankRequest.requestId);
    } catch (error) {
      status = error instanceof BankgateError ? error.status : 500;
      throw error;
    } finally {
      metrics.inc('bankgate_requests_total', { ...labels, status: String(status) });
      metrics.observe('bankgate_request_duration_seconds', labels, (performance.now() - started) / 1000);
    }
  });
}

function toResponse(response: BankResponse, bankRequestId: string): Response {
  const headers = new Headers();
  for (const [name, value] of Object.entries(response.headers)) {
    if (DROPPED_RESPONSE_HEADERS.has(name)) continue;
    if (Array.isArray(value)) for (const v of value) headers.append(name, v);
    else headers.set(name, value);
  }
  headers.set('x-bank-request-id', bankRequestId);
  return new Response(NULL_BODY_STATUS.has(response.status) ? null : (response.body as Uint8Array<ArrayBuffer>), { status: response.status, headers });
}

const IDEMPOTENT = new Set(['GET', 'HEAD', 'PUT', 'DELETE', 'OPTIONS']);

async function callWithToken(found: RouteMatch, c: Context<Env>, engine: TokenEngine, send: (bearer: string | undefined) => Promise<BankResponse>): Promise<BankResponse> {
  const { route, bank } = found.mounted;
  const idempotent = IDEMPOTENT.has(c.req.method.toUpperCase());
  if (route.tokenKind === 'none') return send(undefined);
  if (route.tokenKind === 'client') return engine.callWithClientToken(bank.name, route.scopes, idempotent, send);
  const connectionId = c.req.header('x-connection-id');
  if (!connectionId) {
    throw new BankgateError('connection_required', { status: 400, bank: bank.name, detail: `${route.operationId} acts for a PSU: send X-Connection-Id with a connection from POST /connections` });
  }
  const connection = await engine.store.get(connectionId);
  // A connection of another caller answers exactly like one that does not exist.
  if (!connection || connection.owner !== c.get('caller').id) {
    throw new BankgateError('connection_not_found', { status: 404, detail: `connection ${connectionId.slice(0, 128)} does not exist` });
  }
  if (connection.bank !== bank.name) {
    throw new BankgateError('connection_bank_mismatch', { status: 409, bank: bank.name, detail: `connection ${connection.id} is with bank ${connection.bank}, not ${bank.name}` });
  }
  return engine.callWithPsuToken(connection, idempotent, send);
}

/** The request target as the client sent it (Node), so that no `..` was normalised away before the guard. */
function rawTarget(c: Context): string {
  const incoming = (c.env as { incoming?: IncomingMessage } | undefined)?.incoming;
  if (incoming?.url !== undefined) return incoming.url;
  const url = new URL(c.req.url);
  return url.pathname + url.search;
}
