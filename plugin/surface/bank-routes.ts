import type { IncomingMessage } from 'node:http';
import type { Context } from 'hono';
import { createMiddleware } from 'hono/factory';
import { BankgateError } from '../errors/bankgate-error.js';
import type { Logger } from '../log.js';
import type { TokenEngine } from '../tokens/token-engine.js';
import type { BankTransport } from '../transport/types.js';
import { buildBankRequest } from './bank-request.js';
import type { CallerAuthVariables } from './caller-auth.js';
import { rawPathOf, safePathSegments } from './path-guard.js';
import type { RouteMatch, RouteTable } from './route-table.js';

/** Bank response headers that mean nothing to an internal caller, or that the runtime sets itself. */
const DROPPED_RESPONSE_HEADERS = new Set(['set-cookie', 'content-length', 'www-authenticate', 'strict-transport-security', 'alt-svc', 'server']);
const NULL_BODY_STATUS = new Set([101, 204, 205, 304]);

export interface BankRoutesOptions {
  readonly table: RouteTable;
  readonly engine: TokenEngine;
  readonly transports: ReadonlyMap<string, BankTransport>;
  readonly log: Logger;
}

/**
 * The bank-call middleware: matches `/{bank}/{api}{path}` against the declared operations, attaches the
 * right token (the PSU's, refreshed when needed, or the TPP's client-credentials one), and sends the call
 * over the bank's transport. Anything that is not a declared operation falls through to `next()` (404).
 */
export function bankRoutes(options: BankRoutesOptions) {
  const { table, engine, transports, log } = options;
  return createMiddleware<{ Variables: CallerAuthVariables }>(async function bankgateRoutes(c, next) {
    const segments = safePathSegments(rawPathOf(rawTarget(c)));
    const found = table.match(c.req.method, segments);
    if (!found) return next();
    if ('allowed' in found) {
      throw new BankgateError('method_not_allowed', { status: 405, detail: `${c.req.method} is not declared for this path; allowed: ${found.allowed.join(', ')}`, extra: { allowed: found.allowed } });
    }
    const started = performance.now();
    const bearer = await tokenFor(found, c, engine);
    const bankRequest = await buildBankRequest(found, {
      method: c.req.method,
      query: new URL(c.req.url).searchParams,
      header: (name) => c.req.header(name),
      bytes: async () => new Uint8Array(await c.req.arrayBuffer()),
    }, bearer);
    const { bank, route } = found.mounted;
    const response = await transports.get(bank.name)!.send(bankRequest);

    const headers = new Headers();
    for (const [name, value] of Object.entries(response.headers)) {
      if (DROPPED_RESPONSE_HEADERS.has(name)) continue;
      if (Array.isArray(value)) for (const v of value) headers.append(name, v);
      else headers.set(name, value);
    }
    headers.set('x-bank-request-id', bankRequest.requestId);
    log.info('bank.call', { bank: bank.name, api: found.mounted.api.name, operationId: route.operationId, status: response.status, ms: Math.round(performance.now() - started), bankRequestId: bankRequest.requestId });
    return new Response(NULL_BODY_STATUS.has(response.status) ? null : (response.body as Uint8Array<ArrayBuffer>), { status: response.status, headers });
  });
}

async function tokenFor(found: RouteMatch, c: Context<{ Variables: CallerAuthVariables }>, engine: TokenEngine): Promise<string | undefined> {
  const { route, bank } = found.mounted;
  if (route.tokenKind === 'none') return undefined;
  if (route.tokenKind === 'client') return engine.clientAccessToken(bank.name, route.scopes);
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
  return engine.psuAccessToken(connection);
}

/** The request target as the client sent it (Node), so that no `..` was normalised away before the guard. */
function rawTarget(c: Context): string {
  const incoming = (c.env as { incoming?: IncomingMessage } | undefined)?.incoming;
  if (incoming?.url !== undefined) return incoming.url;
  const url = new URL(c.req.url);
  return url.pathname + url.search;
}
