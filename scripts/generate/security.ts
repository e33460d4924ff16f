import type { CredentialManifest, TokenKind } from '../../plugin/manifest/types.js';
import { deref } from './json-pointer.js';
import type { SpecDocument } from './load-spec.js';

type Json = Record<string, unknown>;

const PSU_FLOWS = new Set(['authorizationCode', 'implicit', 'password']);
const TOKEN_KINDS = new Set<TokenKind>(['psu', 'client', 'none']);

export interface ChosenSecurity {
  readonly tokenKind: TokenKind;
  readonly scopes: string[];
  /** The token's scheme. */
  readonly scheme?: string;
  readonly credentials: CredentialManifest[];
  /** Why no requirement of the operation can be met (then the call goes without them). */
  readonly unsupported?: string;
}

/** What one scheme asks of the gateway, or why it cannot. */
type SchemeNeed =
  | { readonly token: TokenKind }
  | { readonly credential: CredentialManifest }
  | { readonly transport: true }
  | { readonly unsupported: string };

/**
 * The security requirement the gateway satisfies for an operation: the first one (in spec order; alternatives are
 * OR, schemes within one are AND) whose every scheme it can meet. OAuth2 / OpenID Connect / `http` bearer give the
 * token (authorizationCode/implicit/password → PSU token, clientCredentials → client token, the first flow declared
 * deciding); `apiKey` (header, query, cookie) and `http` basic are credentials from config; `mutualTLS` is the bank's
 * mTLS, always presented. An empty `{}` only makes auth optional: it wins only when no real requirement can be met.
 * `fallback` (`x-bankgate-token` of an overlay) decides the token when the chosen requirement carries none.
 */
export function chooseSecurity(doc: SpecDocument, security: unknown, fallback?: { tokenKind: TokenKind; scopes: string[] }): ChosenSecurity {
  const schemes = ((doc['components'] as Json | undefined)?.['securitySchemes'] ?? {}) as Json;
  const reasons: string[] = [];
  let optional = false;
  if (Array.isArray(security)) {
    for (const requirement of security as Json[]) {
      if (!requirement || typeof requirement !== 'object') continue;
      const entries = Object.entries(requirement);
      if (entries.length === 0) {
        optional = true;
        continue;
      }
      const chosen = meet(doc, schemes, entries);
      if ('unmet' in chosen) reasons.push(chosen.unmet);
      else return withFallback(chosen.met, fallback);
    }
  }
  const none = withFallback({ tokenKind: 'none', scopes: [], credentials: [] }, fallback);
  if (reasons.length === 0 || optional) return none;
  return { ...none, unsupported: `no security requirement can be met: ${reasons.join('; ')}` };
}

function withFallback(chosen: ChosenSecurity, fallback: { tokenKind: TokenKind; scopes: string[] } | undefined): ChosenSecurity {
  if (fallback === undefined || chosen.tokenKind !== 'none' || chosen.scheme !== undefined) return chosen;
  return { ...chosen, tokenKind: fallback.tokenKind, scopes: fallback.scopes };
}

function meet(doc: SpecDocument, schemes: Json, entries: [string, unknown][]): { met: ChosenSecurity } | { unmet: string } {
  let token: { kind: TokenKind; scheme: string; scopes: string[] } | undefined;
  const credentials: CredentialManifest[] = [];
  for (const [name, scopes] of entries) {
    const scheme = deref(doc, schemes[name]) as Json | undefined;
    const need = scheme ? needOf(name, scheme) : { unsupported: `scheme "${name}" is not declared` };
    if ('unsupported' in need) return { unmet: need.unsupported };
    if ('transport' in need) continue;
    if ('credential' in need) {
      credentials.push(need.credential);
      continue;
    }
    if (token !== undefined) return { unmet: `"${token.scheme}" and "${name}" both need the Authorization header` };
    token = { kind: need.token, scheme: name, scopes: Array.isArray(scopes) ? scopes.map(String) : [] };
  }
  const clash = credentials.find((c) => (c.type === 'basic' && token !== undefined) || (c.type === 'apiKey' && c.in === 'header' && c.name.toLowerCase() === 'authorization' && (token !== undefined || credentials.some((o) => o.type === 'basic'))));
  if (clash) return { unmet: `"${clash.scheme}" and another scheme of the same requirement both need the Authorization header` };
  return { met: token ? { tokenKind: token.kind, scopes: token.scopes, scheme: token.scheme, credentials } : { tokenKind: 'none', scopes: [], credentials } };
}

function needOf(name: string, scheme: Json): SchemeNeed {
  const type = scheme['type'];
  if (type === 'oauth2') {
    for (const flow of Object.keys((scheme['flows'] ?? {}) as Json)) {
      if (PSU_FLOWS.has(flow)) return { token: 'psu' };
      if (flow === 'clientCredentials') return { token: 'client' };
    }
    return { token: 'psu' };
  }
  if (type === 'openIdConnect') return { token: 'psu' };
  if (type === 'mutualTLS') return { transport: true };
  if (type === 'http') {
    const kind = String(scheme['scheme'] ?? '').toLowerCase();
    if (kind === 'bearer') return { token: 'psu' };
    if (kind === 'basic') return { credential: { scheme: name, type: 'basic' } };
    return { unsupported: `scheme "${name}" is http ${kind || '(no scheme)'}, which bankgate cannot send (bearer and basic only)` };
  }
  if (type === 'apiKey') {
    const where = scheme['in'];
    const keyName = scheme['name'];
    if ((where === 'header' || where === 'query' || where === 'cookie') && typeof keyName === 'string' && keyName !== '') {
      return { credential: { scheme: name, type: 'apiKey', in: where, name: keyName } };
    }
    return { unsupported: `scheme "${name}" is an apiKey without a usable "in" (header, query, cookie) and "name"` };
  }
  return { unsupported: `scheme "${name}" has type ${JSON.stringify(type)}, which bankgate does not support` };
}

/**
 * `x-bankgate-token` (set by an overlay, on an operation or at the document's root): the token an operation takes when
 * its spec declares none, e.g. `Authorization` declared as a plain header parameter. `psu`, `client`, `none`, or
 * `{ kind, scopes }`.
 */
export function tokenExtension(value: unknown): { tokenKind: TokenKind; scopes: string[] } | { error: string } | undefined {
  if (value === undefined) return undefined;
  const kind = typeof value === 'string' ? value : (value as Json | null)?.['kind'];
  const scopes = typeof value === 'object' && value !== null ? (value as Json)['scopes'] : undefined;
  if (typeof kind !== 'string' || !TOKEN_KINDS.has(kind as TokenKind)) return { error: 'x-bankgate-token must be psu, client, none or { kind, scopes }' };
  if (scopes !== undefined && !(Array.isArray(scopes) && scopes.every((s) => typeof s === 'string'))) return { error: 'x-bankgate-token scopes must be a list of strings' };
  return { tokenKind: kind as TokenKind, scopes: (scopes as string[] | undefined) ?? [] };
}
