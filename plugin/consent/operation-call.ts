/**
 * Request builder for protocol steps: one call of a declared operation of a bank, by API path or by a link the bank
 * handed out (`_links.scaStatus.href`). The link is matched against the bank's route table first, so a step can only
 * ever reach a declared operation on the API's own origin: a bank's links cannot make the gateway an open proxy.
 */
import type { ResolvedBank } from '../config/resolve-config.js';
import { BankgateError } from '../errors/bankgate-error.js';
import { safePathSegments } from '../surface/path-guard.js';
import type { RouteMatch, RouteTable } from '../surface/route-table.js';
import type { BankTransport } from '../transport/types.js';
import type { OperationCall, OperationResponse } from './protocol.js';

export interface OperationCallerOptions {
  readonly bank: ResolvedBank;
  readonly table: RouteTable;
  readonly transport: BankTransport;
  /** The TPP's client-credentials token for these scopes. */
  clientToken(scopes: readonly string[]): Promise<string>;
  /** The token of the connection the step acts for; undefined when there is none. */
  connectionToken?(): Promise<string | undefined>;
}

/** Where a link points: the declared operation and the query it carries. */
export interface ResolvedLink {
  readonly match: RouteMatch;
  readonly query: string;
}

/**
 * The declared operation `method path` names at this bank: `path` under `api`'s base URL, or a link (relative to an
 * API's origin, or absolute on it). Throws `bad_request`-free `bank_response_invalid` (502) for a link that names no
 * declared operation: that is the bank's answer being unusable, not the caller's mistake.
 */
export function resolveOperation(table: RouteTable, bank: ResolvedBank, method: string, path: string, api?: string): ResolvedLink {
  const refuse = (why: string) =>
    new BankgateError('bank_response_invalid', { status: 502, bank: bank.name, detail: `bank ${bank.name} pointed the gateway at ${method} ${path.slice(0, 200)}, ${why}` });
  if (api !== undefined) {
    const [pathname = '', query = ''] = path.split('?', 2);
    const found = table.match(method, [bank.name, api, ...safePathSegments(pathname)]);
    if (!found || !('mounted' in found)) throw refuse(`which is no declared operation of ${bank.name}/${api}`);
    return { match: found, query };
  }
  let target: URL;
  try {
    target = new URL(path, 'https://relative.invalid');
  } catch {
    throw refuse('which is no URL');
  }
  const relative = target.origin === 'https://relative.invalid';
  for (const candidate of bank.apis.values()) {
    if (!relative && target.origin !== candidate.baseUrl.origin) continue;
    const prefix = candidate.baseUrl.pathname.replace(/\/$/, '');
    const rawPath = path.startsWith('http') ? target.pathname : path.split('?', 1)[0]!;
    if (prefix !== '' && !(rawPath === prefix || rawPath.startsWith(`${prefix}/`))) continue;
    const rest = rawPath.slice(prefix.length) || '/';
    const found = table.match(method, [bank.name, candidate.name, ...safePathSegments(rest)]);
    if (found && 'mounted' in found) return { match: found, query: target.search.slice(1) };
  }
  throw refuse(relative ? 'which is no declared operation of the bank' : "which is not on the origin of one of the bank's APIs");
}

/** The bank path of a matched operation: the API's base path and the route's segments, each parameter encoded. */
export function bankPathOf(match: RouteMatch): string {
  const { mounted, params } = match;
  let path = mounted.api.baseUrl.pathname.replace(/\/$/, '');
  for (const segment of mounted.segments) path += '/' + (typeof segment === 'string' ? segment : encodeURIComponent(params[segment.param]!));
  return path;
}

/** A function that sends `OperationCall`s to one bank (see `ConsentContext.call`). */
export function createOperationCaller(options: OperationCallerOptions): (call: OperationCall) => Promise<OperationResponse> {
  const { bank, table, transport } = options;
  return async function callOperation(call) {
    const method = call.method.toUpperCase();
    const { match, query } = resolveOperation(table, bank, method, call.path, call.api);
    const headers: Record<string, string> = { 'x-request-id': crypto.randomUUID(), accept: 'application/json', ...call.headers };
    let body: Uint8Array | undefined;
    if (call.body !== undefined) {
      body = new TextEncoder().encode(JSON.stringify(call.body));
      headers['content-type'] = 'application/json';
    }
    const authorization = call.authorization;
    if (authorization === 'client-credentials') headers.authorization = `Bearer ${await options.clientToken(match.mounted.route.scopes)}`;
    else if (authorization === 'connection') {
      const token = await options.connectionToken?.();
      if (token !== undefined) headers.authorization = `Bearer ${token}`;
    } else if (authorization !== undefined) headers.authorization = `Bearer ${authorization.bearer}`;
    const path = bankPathOf(match);
    const response = await transport.send({ method, origin: match.mounted.api.baseUrl.origin, path: query ? `${path}?${query}` : path, headers, body });
    return { operationId: match.mounted.route.operationId, status: response.status, headers: response.headers, json: parseJson(response.body, response.headers['content-type']), response };
  };
}

function parseJson(body: Uint8Array, contentType: string | string[] | undefined): unknown {
  if (body.byteLength === 0) return undefined;
  const text = new TextDecoder().decode(body);
  if (!/json/i.test(String(contentType ?? '')) && !/^\s*[{[]/.test(text)) return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}
