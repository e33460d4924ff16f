import { BankgateError } from '../errors/bankgate-error.js';
import type { BankRequest } from '../transport/types.js';
import type { ParamManifest } from '../manifest/types.js';
import { credentialPlanOf, isCredentialQuery } from './bank-credentials.js';
import { isOwnedHeader } from './owned-headers.js';
import { isMediaRange } from './validation/media-type.js';
import type { MountedRoute, RouteMatch } from './route-table.js';

export interface BankHeaderPolicy {
  /** Lower-case header name → value, sent when an operation declares that header (e.g. `tpp-redirect-uri`). */
  readonly static: Readonly<Record<string, string>>;
}

export interface InboundRequest {
  readonly query: URLSearchParams;
  header(name: string): string | undefined;
  readonly body?: Uint8Array;
  /** Lower-case header → value the gateway sets for this call from its connection (`consent-id`), owned headers included. */
  readonly gatewayHeaders?: Readonly<Record<string, string>>;
}

/**
 * Builds the bank call from a matched route and the caller's request. Only what the spec declares goes
 * through: declared path params (encoded), declared query params, declared headers; the bank's origin and
 * path prefix come from config, never from the request. Bank-mandated headers come from policy:
 * `X-Request-ID` (a new UUID per bank call), `Date`, `TPP-*` static values; `PSU-*` and the like from the caller.
 */
export function buildBankRequest(match: RouteMatch, inbound: InboundRequest, bearer: string | undefined, policy: BankHeaderPolicy): BankRequest & { requestId: string } {
  const { mounted, params } = match;
  const { route, bank } = mounted;
  const plan = planOf(mounted);
  const problems: string[] = [];

  let path = plan.basePath;
  for (const segment of mounted.segments) {
    if (typeof segment === 'string') {
      path += '/' + segment;
      continue;
    }
    const value = params[segment.param]!;
    const declared = plan.pathParams.get(segment.param);
    if (declared?.enum && !declared.enum.includes(value)) problems.push(`path parameter ${segment.param} must be one of ${declared.enum.join(', ')}`);
    path += '/' + encodeURIComponent(value);
  }

  const credentials = credentialPlanOf(mounted);
  const query = new URLSearchParams();
  for (const [key, value] of inbound.query) {
    // An API key the gateway sends in the query is never the caller's: its value is dropped, the configured one sent.
    if (credentials.query.length > 0 && isCredentialQuery(credentials, key)) continue;
    const declared = plan.queryParams.get(key);
    if (!declared) problems.push(`query parameter ${key} is not declared by ${route.operationId}`);
    else if (declared.enum && !declared.enum.includes(value)) problems.push(`query parameter ${key} must be one of ${declared.enum.join(', ')}`);
    else query.append(key, value);
  }
  for (const declared of route.params.query) if (declared.required && !inbound.query.has(declared.name)) problems.push(`query parameter ${declared.name} is required`);
  for (const [key, value] of credentials.query) query.append(key, value);
  const search = query.toString();

  const requestId = crypto.randomUUID();
  const headers: Record<string, string> = { 'x-request-id': requestId, accept: inbound.header('accept') ?? 'application/json' };
  if (bearer !== undefined) headers.authorization = `Bearer ${bearer}`;
  else if (credentials.authorization !== undefined) headers.authorization = credentials.authorization;
  for (const declared of route.params.header) {
    const name = declared.name.toLowerCase();
    if (isOwnedHeader(name)) {
      const fromConnection = inbound.gatewayHeaders !== undefined && Object.hasOwn(inbound.gatewayHeaders, name) ? inbound.gatewayHeaders[name] : undefined;
      const value = name === 'date' ? new Date().toUTCString() : (fromConnection ?? policy.static[name]);
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

  // After the declared headers: a declared header of the same name cannot displace the configured key.
  for (const name in credentials.headers) headers[name] = credentials.headers[name]!;
  if (credentials.cookie !== undefined) headers.cookie = credentials.cookie;

  let body: Uint8Array | undefined;
  if (route.requestBody && inbound.body && inbound.body.byteLength > 0) {
    body = inbound.body;
    // No Content-Type from the caller: the first concrete type declared (a range such as */* names none).
    headers['content-type'] = inbound.header('content-type') ?? route.requestBody.contentTypes.find((type) => !isMediaRange(type)) ?? 'application/json';
  } else if (route.requestBody?.required) {
    problems.push(`${route.operationId} requires a request body (${route.requestBody.contentTypes.join(', ')})`);
  }

  if (problems.length > 0) {
    const missingHeaderOnly = problems.every((p) => p.startsWith('header '));
    throw new BankgateError(missingHeaderOnly ? 'missing_header' : 'bad_request', { status: 400, bank: bank.name, detail: problems.join('; '), extra: { violations: problems } });
  }
  return { method: mounted.method, origin: plan.origin, path: search ? `${path}?${search}` : path, headers, body, requestId };
}

/** What `buildBankRequest` reads of a route on every call, worked out once per route. */
interface RoutePlan {
  /** The API's base path at the bank, without a trailing slash. */
  readonly basePath: string;
  readonly origin: string;
  readonly pathParams: ReadonlyMap<string, ParamManifest>;
  readonly queryParams: ReadonlyMap<string, ParamManifest>;
}

const plans = new WeakMap<MountedRoute, RoutePlan>();

function planOf(mounted: MountedRoute): RoutePlan {
  let plan = plans.get(mounted);
  if (!plan) {
    const { api, route } = mounted;
    plan = {
      basePath: api.baseUrl.pathname.replace(/\/$/, ''),
      origin: api.baseUrl.origin,
      pathParams: byName(route.params.path),
      queryParams: byName(route.params.query),
    };
    plans.set(mounted, plan);
  }
  return plan;
}

/** Name → declaration; the first declaration of a name wins, as a search of the list would find it. */
function byName(list: readonly ParamManifest[]): ReadonlyMap<string, ParamManifest> {
  const map = new Map<string, ParamManifest>();
  for (const p of list) if (!map.has(p.name)) map.set(p.name, p);
  return map;
}
