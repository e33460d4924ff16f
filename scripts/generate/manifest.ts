import type { ApiManifest, CredentialManifest, ParamManifest, RouteManifest } from '../../plugin/manifest/types.js';
import { isCredentialParam } from '../../plugin/surface/credential-params.js';
import { deref } from './json-pointer.js';
import { listOperations } from './operations.js';
import { chooseSecurity, tokenExtension } from './security.js';
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
    const extension = tokenExtension(operation['x-bankgate-token'] ?? doc['x-bankgate-token']);
    const security = chooseSecurity(doc, operation['security'] ?? doc['security'], extension && !('error' in extension) ? extension : undefined);
    const declared = collectParams(doc, site.pathItem['parameters'], operation['parameters'], security.credentials);
    const { params } = declared;
    const requestBody = deref(doc, operation['requestBody']) as Json | undefined;
    const summary = operation['summary'];
    const authorizationUndeclared =
      declared.authorization && extension === undefined && security.scheme === undefined && !security.credentials.some((c) => c.type === 'basic' || (c.type === 'apiKey' && c.in === 'header' && c.name.toLowerCase() === 'authorization'));
    const unsupported = [unsupportedReason(doc, operation), security.unsupported, extension && 'error' in extension ? extension.error : undefined].filter((r) => r !== undefined).join('; ') || undefined;
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
      ...(security.credentials.length > 0 ? { credentials: security.credentials } : {}),
      ...(authorizationUndeclared ? { authorizationUndeclared: true as const } : {}),
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

/**
 * Path-level then operation-level parameters, the latter overriding by (in, name), in spec order. `Authorization` and
 * the credentials' own headers and query parameters are the gateway's, not the caller's: left out (and reported).
 */
function collectParams(doc: SpecDocument, pathLevel: unknown, operationLevel: unknown, credentials: readonly CredentialManifest[]): { params: RouteManifest['params']; authorization: boolean } {
  let authorization = false;
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
    if (where === 'header' && name.toLowerCase() === 'authorization') {
      authorization = true;
      continue;
    }
    if (isCredentialParam(credentials, where, name)) continue;
    out[where].push(describeParam(doc, param, name, where === 'path' || param['required'] === true));
  }
  return { params: out, authorization };
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
