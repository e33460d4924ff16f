import type { ApiManifest, RouteManifest } from '../manifest/types.js';
import { CONNECTION_ID_PATTERN, connectionApiDocument } from './connection-api.js';
import { isCredentialParam } from './credential-params.js';
import { actsForConnection } from './acts-for-connection.js';
import { isOwnedHeader } from './owned-headers.js';
import { PATH_SEGMENT_SCHEMA } from './path-guard.js';
import { psuHeaderSchema } from './psu-headers.js';

type Json = Record<string, unknown>;

export interface SurfaceApi {
  readonly bank: string;
  readonly api: string;
  /** Shown as the tag of the API's operations. */
  readonly title: string;
  readonly manifest: ApiManifest;
  /** The bank's normalised OpenAPI 3.0/3.1 document; without it operations are described from the manifest alone. */
  readonly document?: Readonly<Json>;
}

const PROBLEM_REF = { $ref: '#/components/responses/Problem' };

/**
 * One OpenAPI 3.1 document of the whole surface: the consent API (`/connections…`, from connection-api.ts) and every
 * mounted operation under its gateway path `{basePath}/{bank}/{api}{path}`: the bank's parameters, bodies and
 * responses with their schemas (component names prefixed per bank and API so that two banks' `Amount` do not
 * collide), the headers the gateway owns removed, the bank's security replaced by the internal bearer scheme and,
 * for PSU operations, `X-Connection-Id`. Deterministic: same input, same bytes.
 * `basePath` is where the gateway is mounted (`/banks` under a host app; default the root).
 */
export function buildSurfaceDocument(apis: readonly SurfaceApi[], options: { serverUrl?: string; basePath?: string; title?: string; version?: string } = {}): Json {
  const basePath = (options.basePath ?? '').replace(/\/+$/, '');
  const consent = connectionApiDocument(basePath);
  const paths: Record<string, Json> = { ...consent.paths };
  const schemas: Json = {};
  const tags: Json[] = [{ name: 'connections', description: 'PSU consents: start one, follow it, revoke it. A connection is what `X-Connection-Id` names.' }];
  for (const entry of [...apis].sort((a, b) => `${a.bank}/${a.api}`.localeCompare(`${b.bank}/${b.api}`))) {
    const prefix = componentPrefix(entry.bank, entry.api);
    const tag = `${entry.bank}/${entry.api}`;
    tags.push({ name: tag, description: entry.title });
    const document = entry.document as Json | undefined;
    const rewrite = (value: unknown) => toOas31(rewriteRefs(value, prefix, document));
    // The surface's own component schemas, by the rewritten `$ref` the parameters carry (up to a few hops of aliases).
    const schemaOf = (ref: string): Json | undefined => {
      let node: Json | undefined = { $ref: ref };
      for (let hops = 0; hops < 5 && typeof node?.$ref === 'string'; hops++) node = (node.$ref as string).startsWith('#/components/schemas/') ? (schemas[(node.$ref as string).slice('#/components/schemas/'.length)] as Json | undefined) : undefined;
      return node;
    };
    for (const [name, schema] of Object.entries(((document?.components as Json | undefined)?.schemas ?? {}) as Json)) schemas[prefix + name] = rewrite(schema);
    for (const route of entry.manifest.routes) {
      const gatewayPath = `${basePath}/${entry.bank}/${entry.api}${route.path}`;
      const source = ((document?.paths as Json | undefined)?.[route.path] as Json | undefined)?.[route.method] as Json | undefined;
      (paths[gatewayPath] ??= {})[route.method] = operation(entry, route, tag, source, document, rewrite, schemaOf);
    }
  }
  return {
    openapi: '3.1.0',
    info: {
      title: options.title ?? 'bankgate',
      version: options.version ?? '1.0.0',
      description: 'Every bank API this gateway mounts, under one internal surface: one URL, one credential, one error format.',
    },
    ...(options.serverUrl ? { servers: [{ url: options.serverUrl }] } : {}),
    security: [{ internalBearer: [] }],
    tags,
    paths: sortKeys(paths),
    components: {
      securitySchemes: { internalBearer: { type: 'http', scheme: 'bearer', description: 'The internal credential of the calling service: a JWT from the internal issuer, or a static key.' } },
      parameters: {
        ConnectionId: { name: 'X-Connection-Id', in: 'header', required: true, description: "The PSU's connection to act for (from POST /connections).", schema: { type: 'string', pattern: CONNECTION_ID_PATTERN.source } },
        RequestId: { name: 'X-Request-ID', in: 'header', required: false, description: "The caller's correlation id, echoed back; the bank gets a request id of its own.", schema: { type: 'string' } },
      },
      responses: {
        Problem: { description: 'An RFC 9457 problem with a stable `code`.', content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } } },
      },
      schemas: {
        Problem: {
          type: 'object',
          required: ['type', 'title', 'status', 'code'],
          properties: {
            type: { type: 'string' },
            title: { type: 'string' },
            status: { type: 'integer' },
            code: { type: 'string' },
            detail: { type: 'string' },
            bank: { type: 'string' },
            instance: { type: 'string' },
            violations: { type: 'array', items: {} },
            bankStatus: { type: 'integer' },
            bankMessages: { type: 'array', items: { type: 'object', properties: { code: { type: 'string' }, text: { type: 'string' }, path: { type: 'string' } } } },
            bankError: {},
          },
        },
        ...sortKeys({ ...schemas, ...consent.schemas }),
      },
    },
  };
}

function operation(entry: SurfaceApi, route: RouteManifest, tag: string, source: Json | undefined, document: Json | undefined, rewrite: (v: unknown) => unknown, schemaOf: (ref: string) => Json | undefined): Json {
  const parameters: unknown[] = [];
  const params = (source ? [...asArray(source.parameters), ...asArray(pathItemParameters(document, route))] : []).map((p) => resolveLocal(document, p) as Json);
  const seen = new Set<string>();
  for (const p of params) {
    if (!p || typeof p.name !== 'string' || typeof p.in !== 'string') continue;
    const key = `${p.in}:${p.name.toLowerCase()}`;
    if (seen.has(key) || (p.in === 'header' && isOwnedHeader(p.name.toLowerCase())) || p.in === 'cookie' || isCredentialParam(route.credentials, p.in, p.name)) continue;
    seen.add(key);
    parameters.push(withPathSegment(withPsuFormat(rewrite(p) as Json), schemaOf));
  }
  if (!source) {
    for (const p of route.params.path) parameters.push(withPathSegment({ name: p.name, in: 'path', required: true, schema: paramSchema(p) }, schemaOf));
    for (const p of route.params.query) parameters.push({ name: p.name, in: 'query', required: p.required, schema: paramSchema(p) });
    for (const p of route.params.header) if (!isOwnedHeader(p.name.toLowerCase())) parameters.push(withPsuFormat({ name: p.name, in: 'header', required: p.required, schema: paramSchema(p) }));
  }
  if (actsForConnection(route)) parameters.push({ $ref: '#/components/parameters/ConnectionId' });
  parameters.push({ $ref: '#/components/parameters/RequestId' });

  const responses: Json = {};
  for (const [status, response] of Object.entries((source?.responses ?? {}) as Json)) {
    const resolved = resolveLocal(document, response) as Json;
    // Bank errors reach callers as problems: keep the bank's success answers only.
    if (/^[45]/.test(status)) continue;
    const { headers: _headers, links: _links, ...kept } = resolved ?? {};
    responses[status] = rewrite({ description: 'description' in kept ? kept.description : '', ...kept });
  }
  if (Object.keys(responses).length === 0) responses.default = { description: "The bank's answer." };
  responses['4XX'] = PROBLEM_REF;
  responses['5XX'] = PROBLEM_REF;

  const requestBody = source?.requestBody ? rewrite(resolveLocal(document, source.requestBody)) : route.requestBody ? { required: route.requestBody.required, content: Object.fromEntries(route.requestBody.contentTypes.map((t) => [t, {}])) } : undefined;
  return {
    operationId: `${entry.bank}_${entry.api}_${route.operationId}`,
    tags: [tag],
    summary: route.summary ?? (typeof source?.summary === 'string' ? source.summary : route.operationId),
    ...(typeof source?.description === 'string' ? { description: source.description } : {}),
    ...(route.tokenKind === 'client' ? { 'x-bankgate-token': 'client' } : route.tokenKind === 'psu' ? { 'x-bankgate-token': 'psu' } : {}),
    parameters,
    ...(requestBody ? { requestBody } : {}),
    responses,
  };
}

/** A `PSU-*` header the bank declares as a bare string, given the format it really has (the gateway checks it). */
function withPsuFormat(parameter: Json): Json {
  if (parameter.in !== 'header' || typeof parameter.name !== 'string') return parameter;
  const schema = psuHeaderSchema(parameter.name, parameter.schema as Json | undefined);
  return schema === parameter.schema ? parameter : { ...parameter, schema };
}

/**
 * A path parameter given what the path guard lets through (PATH_SEGMENT_SCHEMA), so that a request valid by the
 * document is never refused by the guard. A bare string (inline or behind a `$ref`, as Berlin Group declares its ids)
 * takes the guard's constraints inline; an enum whose values all pass stays as it is; anything else gets them beside
 * its own schema (`allOf`).
 */
function withPathSegment(parameter: Json, schemaOf: (ref: string) => Json | undefined): Json {
  if (parameter.in !== 'path') return parameter;
  const schema = parameter.schema as Json | undefined;
  const target = typeof schema?.$ref === 'string' ? schemaOf(schema.$ref) : schema;
  const guard = { ...PATH_SEGMENT_SCHEMA, not: { ...PATH_SEGMENT_SCHEMA.not, enum: [...PATH_SEGMENT_SCHEMA.not.enum] } };
  if (!target || isBareString(target)) {
    const { $ref: _ref, ...own } = schema ?? {};
    return { ...parameter, schema: { ...target, ...own, ...guard } };
  }
  if (Array.isArray(target.enum) && target.enum.every(passesPathGuard)) return parameter;
  return { ...parameter, schema: { allOf: [schema, guard] } };
}

function isBareString(schema: Json): boolean {
  return Object.keys(schema).every((key) => ['type', 'description', 'example', 'examples', 'maxLength'].includes(key) && (key !== 'type' || schema.type === 'string'));
}

const PATH_SEGMENT_PATTERN = new RegExp(PATH_SEGMENT_SCHEMA.pattern);

function passesPathGuard(value: unknown): boolean {
  return typeof value === 'string' && PATH_SEGMENT_PATTERN.test(value) && !(PATH_SEGMENT_SCHEMA.not.enum as readonly string[]).includes(value);
}

function pathItemParameters(document: Json | undefined, route: RouteManifest): unknown {
  return ((document?.paths as Json | undefined)?.[route.path] as Json | undefined)?.parameters;
}

function asArray(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

function paramSchema(p: { type?: string; enum?: readonly string[] }): Json {
  return { type: p.type ?? 'string', ...(p.enum ? { enum: [...p.enum] } : {}) };
}

/** Parameters, request bodies and responses are inlined; only schemas stay components. */
function resolveLocal(document: Json | undefined, value: unknown): unknown {
  let node = value as Json | undefined;
  for (let hops = 0; hops < 10 && node && typeof node.$ref === 'string' && (node.$ref as string).startsWith('#/components/') && !(node.$ref as string).startsWith('#/components/schemas/'); hops++) {
    node = (node.$ref as string)
      .slice(2)
      .split('/')
      .map((t) => t.replace(/~1/g, '/').replace(/~0/g, '~'))
      .reduce<unknown>((n, t) => (n as Json | undefined)?.[t], document) as Json | undefined;
  }
  return node;
}

function componentPrefix(bank: string, api: string): string {
  const pascal = (s: string) => s.split(/[^A-Za-z0-9]+/).filter(Boolean).map((w) => w[0]!.toUpperCase() + w.slice(1)).join('');
  return `${pascal(bank)}${pascal(api)}_`;
}

/** `#/components/schemas/X` → `#/components/schemas/<Prefix>X`; other local refs are inlined. */
function rewriteRefs(value: unknown, prefix: string, document: Json | undefined, depth = 0): unknown {
  if (depth > 64) return value;
  if (Array.isArray(value)) return value.map((v) => rewriteRefs(v, prefix, document, depth + 1));
  if (typeof value !== 'object' || value === null) return value;
  const node = value as Json;
  if (typeof node.$ref === 'string') {
    const ref = node.$ref;
    if (ref.startsWith('#/components/schemas/')) return { ...node, $ref: `#/components/schemas/${prefix}${ref.slice('#/components/schemas/'.length)}` };
    if (ref.startsWith('#/components/')) return rewriteRefs(resolveLocal(document, node), prefix, document, depth + 1);
  }
  const out = Object.fromEntries(Object.entries(node).map(([k, v]) => [k, rewriteRefs(v, prefix, document, depth + 1)]));
  // A discriminator's mapping names schemas by reference too (OpenWealth): they move with the prefix.
  const mapping = (node.discriminator as Json | undefined)?.mapping;
  if (mapping && typeof mapping === 'object') {
    const moved = Object.fromEntries(Object.entries(mapping as Json).map(([k, v]) => [k, typeof v === 'string' && v.startsWith('#/components/schemas/') ? `#/components/schemas/${prefix}${v.slice('#/components/schemas/'.length)}` : v]));
    out.discriminator = { ...(out.discriminator as Json), mapping: moved };
  }
  return out;
}

/** OpenAPI 3.0 schema dialect → 3.1 (JSON Schema 2020-12): `nullable`, boolean exclusive bounds, `example`. */
function toOas31(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(toOas31);
  if (typeof value !== 'object' || value === null) return value;
  const node: Json = {};
  for (const [k, v] of Object.entries(value as Json)) node[k] = toOas31(v);
  if (node.nullable === true) {
    delete node.nullable;
    if (typeof node.type === 'string') node.type = [node.type, 'null'];
    else if (node.$ref || node.allOf || node.oneOf || node.anyOf) return { anyOf: [node, { type: 'null' }] };
  } else if (node.nullable === false) delete node.nullable;
  for (const [flag, bound] of [['exclusiveMinimum', 'minimum'], ['exclusiveMaximum', 'maximum']] as const) {
    if (node[flag] === true && typeof node[bound] === 'number') {
      node[flag] = node[bound];
      delete node[bound];
    } else if (node[flag] === false) delete node[flag];
  }
  return node;
}

function sortKeys<T extends Json>(object: T): T {
  return Object.fromEntries(Object.entries(object).sort(([a], [b]) => a.localeCompare(b))) as T;
}
