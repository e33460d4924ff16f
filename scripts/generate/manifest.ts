import type { ApiManifest, ParamManifest, RouteManifest, TokenKind } from '../../plugin/manifest/types.js';
import { deref } from './json-pointer.js';
import { listOperations } from './operations.js';
import { unsupportedReason } from './unsupported.js';
import type { SpecDocument } from './load-spec.js';

type Json = Record<string, unknown>;

export interface ManifestInput {
  readonly bank: string;
  readonly api: string;
  /** The normalised OpenAPI 3 document (after conversion and operationId derivation). */
  readonly doc: SpecDocument;
  readonly specSha256: string;
  /** Pointers (`#/paths/~1a/get`) of the operations whose operationId was derived. */
  readonly derived: ReadonlySet<string>;
}

/** Builds the gateway's route manifest for one API from its normalised OpenAPI 3 document. */
export function buildManifest({ bank, api, doc, specSha256, derived }: ManifestInput): ApiManifest {
  const info = (doc['info'] ?? {}) as Json;
  const servers = Array.isArray(doc['servers']) ? (doc['servers'] as Json[]).map((server) => String(server['url'])) : [];
  const routes = listOperations(doc).map((site): RouteManifest => {
    const { operation } = site;
    const params = collectParams(doc, site.pathItem['parameters'], operation['parameters']);
    const security = chooseSecurity(doc, operation['security'] ?? doc['security']);
    const requestBody = deref(doc, operation['requestBody']) as Json | undefined;
    const summary = operation['summary'];
    const unsupported = unsupportedReason(doc, operation);
    return {
      operationId: String(operation['operationId']),
      ...(derived.has(site.pointer) ? { operationIdDerived: true } : {}),
      method: site.method,
      path: site.path,
      ...(typeof summary === 'string' && summary !== '' ? { summary } : {}),
      params,
      ...(requestBody && typeof requestBody === 'object'
        ? { requestBody: { required: requestBody['required'] === true, contentTypes: Object.keys((requestBody['content'] ?? {}) as Json) } }
        : {}),
      scopes: security.scopes,
      tokenKind: security.tokenKind,
      ...(security.scheme !== undefined ? { securityScheme: security.scheme } : {}),
      ...(unsupported !== undefined ? { unsupported } : {}),
    };
  });
  return {
    bank,
    api,
    title: String(info['title'] ?? `${bank} ${api}`),
    version: String(info['version'] ?? ''),
    servers,
    specSha256,
    routes,
  };
}

/** Path-level then operation-level parameters, the latter overriding by (in, name), in spec order. */
function collectParams(doc: SpecDocument, pathLevel: unknown, operationLevel: unknown): RouteManifest['params'] {
  const byKey = new Map<string, Json>();
  for (const list of [pathLevel, operationLevel]) {
    if (!Array.isArray(list)) continue;
    for (const entry of list) {
      const param = deref(doc, entry) as Json | undefined;
      if (!param || typeof param !== 'object' || typeof param['name'] !== 'string') continue;
      byKey.set(`${String(param['in'])}:${param['name']}`, param);
    }
  }
  const out: { path: ParamManifest[]; query: ParamManifest[]; header: ParamManifest[] } = { path: [], query: [], header: [] };
  for (const param of byKey.values()) {
    const where = param['in'];
    if (where !== 'path' && where !== 'query' && where !== 'header') continue;
    const name = param['name'] as string;
    // The gateway owns Authorization: banks that declare it as a parameter must not make callers send it.
    if (where === 'header' && name.toLowerCase() === 'authorization') continue;
    out[where].push(describeParam(doc, param, name, where === 'path' || param['required'] === true));
  }
  return out;
}

function describeParam(doc: SpecDocument, param: Json, name: string, required: boolean): ParamManifest {
  let schema = deref(doc, param['schema']) as Json | undefined;
  if (schema === undefined && param['content'] && typeof param['content'] === 'object') {
    const first = Object.values(param['content'] as Json)[0] as Json | undefined;
    schema = deref(doc, first?.['schema']) as Json | undefined;
  }
  const type = schema?.['type'];
  const values = schema?.['enum'];
  return {
    name,
    required,
    ...(typeof type === 'string' ? { type } : {}),
    ...(Array.isArray(values) ? { enum: values.filter((v) => v !== null).map(String) } : {}),
  };
}

const PSU_FLOWS = new Set(['authorizationCode', 'implicit', 'password']);

/**
 * The first requirement naming an OAuth2, OpenID Connect or HTTP bearer scheme decides the token: an empty `{}`
 * requirement only makes auth optional, so it never wins over a real one. Within an OAuth2 scheme, the first flow
 * declared decides: authorizationCode/implicit/password → PSU token, clientCredentials → client token.
 */
function chooseSecurity(doc: SpecDocument, security: unknown): { tokenKind: TokenKind; scopes: string[]; scheme?: string } {
  const schemes = ((doc['components'] as Json | undefined)?.['securitySchemes'] ?? {}) as Json;
  if (Array.isArray(security)) {
    for (const requirement of security as Json[]) {
      if (!requirement || typeof requirement !== 'object') continue;
      for (const [name, scopes] of Object.entries(requirement)) {
        const scheme = deref(doc, schemes[name]) as Json | undefined;
        const tokenKind = scheme ? tokenKindOf(scheme) : undefined;
        if (tokenKind === undefined) continue;
        return { tokenKind, scopes: Array.isArray(scopes) ? scopes.map(String) : [], scheme: name };
      }
    }
  }
  return { tokenKind: 'none', scopes: [] };
}

function tokenKindOf(scheme: Json): TokenKind | undefined {
  const type = scheme['type'];
  if (type === 'http') return String(scheme['scheme']).toLowerCase() === 'bearer' ? 'psu' : undefined;
  if (type === 'openIdConnect') return 'psu';
  if (type !== 'oauth2') return undefined;
  const flows = Object.keys((scheme['flows'] ?? {}) as Json);
  for (const flow of flows) {
    if (PSU_FLOWS.has(flow)) return 'psu';
    if (flow === 'clientCredentials') return 'client';
  }
  return 'psu';
}
