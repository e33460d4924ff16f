import { randomUUID } from 'node:crypto';
import { BankgateError } from '../errors/bankgate-error.js';
import type { BankRequest } from '../transport/types.js';
import type { RouteMatch } from './route-table.js';

/**
 * Headers the gateway owns: a caller can never set them, whatever the spec declares. `TPP-*` headers speak
 * for the TPP (the gateway), so they come from the bank's header policy, not from callers.
 */
export function isOwnedHeader(lowerName: string): boolean {
  return OWNED.has(lowerName) || lowerName.startsWith('tpp-');
}
const OWNED = new Set(['authorization', 'x-request-id', 'signature', 'digest', 'date', 'host', 'content-length', 'x-connection-id']);

export interface BankHeaderPolicy {
  /** Lower-case header name → value, sent when an operation declares that header (e.g. `tpp-redirect-uri`). */
  readonly static: Readonly<Record<string, string>>;
}

export interface InboundRequest {
  readonly query: URLSearchParams;
  header(name: string): string | undefined;
  readonly body?: Uint8Array;
}

/**
 * Builds the bank call from a matched route and the caller's request. Only what the spec declares goes
 * through: declared path params (encoded), declared query params, declared headers; the bank's origin and
 * path prefix come from config, never from the request. Bank-mandated headers come from policy:
 * `X-Request-ID` (a new UUID per bank call), `Date`, `TPP-*` static values; `PSU-*` and the like from the caller.
 */
export function buildBankRequest(match: RouteMatch, inbound: InboundRequest, bearer: string | undefined, policy: BankHeaderPolicy): BankRequest & { requestId: string } {
  const { mounted, params } = match;
  const { route, api, bank } = mounted;
  const problems: string[] = [];

  let path = api.baseUrl.pathname.replace(/\/$/, '');
  for (const segment of mounted.segments) {
    if (typeof segment === 'string') {
      path += '/' + segment;
      continue;
    }
    const value = params[segment.param]!;
    const declared = route.params.path.find((p) => p.name === segment.param);
    if (declared?.enum && !declared.enum.includes(value)) problems.push(`path parameter ${segment.param} must be one of ${declared.enum.join(', ')}`);
    path += '/' + encodeURIComponent(value);
  }

  const query = new URLSearchParams();
  const declaredQuery = new Map(route.params.query.map((p) => [p.name, p]));
  for (const [key, value] of inbound.query) {
    const declared = declaredQuery.get(key);
    if (!declared) problems.push(`query parameter ${key} is not declared by ${route.operationId}`);
    else if (declared.enum && !declared.enum.includes(value)) problems.push(`query parameter ${key} must be one of ${declared.enum.join(', ')}`);
    else query.append(key, value);
  }
  for (const declared of route.params.query) if (declared.required && !inbound.query.has(declared.name)) problems.push(`query parameter ${declared.name} is required`);
  const search = query.toString();

  const requestId = randomUUID();
  const headers: Record<string, string> = { 'x-request-id': requestId, accept: inbound.header('accept') ?? 'application/json' };
  if (bearer !== undefined) headers.authorization = `Bearer ${bearer}`;
  for (const declared of route.params.header) {
    const name = declared.name.toLowerCase();
    if (isOwnedHeader(name)) {
      const value = name === 'date' ? new Date().toUTCString() : policy.static[name];
      if (value !== undefined) headers[name] = value;
      else if (declared.required && name.startsWith('tpp-')) {
        throw new BankgateError('config_invalid', { status: 500, bank: bank.name, detail: `${route.operationId} requires header ${declared.name}: set banks.${bank.name}.headers["${declared.name}"] in hono.config.ts` });
      }
      continue;
    }
    const value = inbound.header(name);
    if (value !== undefined) headers[name] = value;
    else if (declared.required) problems.push(`header ${declared.name} is required by ${bank.name} for ${route.operationId}`);
  }

  let body: Uint8Array | undefined;
  if (route.requestBody && inbound.body && inbound.body.byteLength > 0) {
    body = inbound.body;
    headers['content-type'] = inbound.header('content-type') ?? route.requestBody.contentTypes[0] ?? 'application/json';
  } else if (route.requestBody?.required) {
    problems.push(`${route.operationId} requires a request body (${route.requestBody.contentTypes.join(', ')})`);
  }

  if (problems.length > 0) {
    const missingHeaderOnly = problems.every((p) => p.startsWith('header '));
    throw new BankgateError(missingHeaderOnly ? 'missing_header' : 'bad_request', { status: 400, bank: bank.name, detail: problems.join('; '), extra: { violations: problems } });
  }
  return { method: mounted.method, origin: api.baseUrl.origin, path: search ? `${path}?${search}` : path, headers, body, requestId };
}
