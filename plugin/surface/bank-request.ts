import { randomUUID } from 'node:crypto';
import { BankgateError } from '../errors/bankgate-error.js';
import type { BankRequest } from '../transport/types.js';
import type { RouteMatch } from './route-table.js';

/** Headers the gateway owns: a caller can never set them, whatever the spec declares. */
const OWNED_HEADERS = new Set(['authorization', 'x-request-id', 'signature', 'digest', 'tpp-signature-certificate', 'host', 'content-length']);
const MAX_BODY_BYTES = 1024 * 1024;

export interface InboundRequest {
  readonly method: string;
  readonly query: URLSearchParams;
  header(name: string): string | undefined;
  bytes(): Promise<Uint8Array>;
}

/**
 * Builds the bank call from a matched route and the caller's request. Only what the spec declares goes
 * through: declared path params (encoded), declared query params, declared headers; the bank's origin and
 * path prefix come from config, never from the request.
 */
export async function buildBankRequest(match: RouteMatch, inbound: InboundRequest, bearer: string | undefined): Promise<BankRequest & { requestId: string }> {
  const { mounted, params } = match;
  const { route, api } = mounted;
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
    if (OWNED_HEADERS.has(name)) continue;
    const value = inbound.header(name);
    if (value !== undefined) headers[name] = value;
    else if (declared.required) problems.push(`header ${declared.name} is required by ${mounted.bank.name} for ${route.operationId}`);
  }

  let body: Uint8Array | undefined;
  if (route.requestBody) {
    body = await inbound.bytes();
    if (body.byteLength > MAX_BODY_BYTES) problems.push(`request body is larger than ${MAX_BODY_BYTES} bytes`);
    if (body.byteLength === 0) {
      if (route.requestBody.required) problems.push(`${route.operationId} requires a request body (${route.requestBody.contentTypes.join(', ')})`);
      body = undefined;
    } else {
      headers['content-type'] = inbound.header('content-type') ?? route.requestBody.contentTypes[0] ?? 'application/json';
    }
  }

  if (problems.length > 0) {
    const missingHeaderOnly = problems.every((p) => p.startsWith('header '));
    throw new BankgateError(missingHeaderOnly ? 'missing_header' : 'bad_request', {
      status: 400,
      bank: mounted.bank.name,
      detail: problems.join('; '),
      extra: { violations: problems },
    });
  }

  return { method: mounted.method, origin: api.baseUrl.origin, path: search ? `${path}?${search}` : path, headers, body, requestId };
}
