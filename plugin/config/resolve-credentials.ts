import type { CredentialManifest, RouteManifest } from '../manifest/types.js';
import type { AuthorizationChoice, CredentialConfig } from './credentials-schema.js';
import type { ProblemCollector } from './secret-ref.js';

/** A credential read from its reference, ready to send. */
export type ResolvedCredential =
  | { readonly kind: 'apiKey'; readonly value: string }
  /** `Authorization` value: `Bearer …` (a static bearer) or `Basic …`. */
  | { readonly kind: 'authorization'; readonly value: string };

/** Reads `banks.<bank>.credentials` (each reference once); a problem per unreadable one, under its path. */
export function readCredentials(bank: string, configured: Readonly<Record<string, CredentialConfig>>, collector: ProblemCollector): Map<string, ResolvedCredential> {
  const out = new Map<string, ResolvedCredential>();
  for (const [scheme, credential] of Object.entries(configured)) {
    const at = `banks.${bank}.credentials.${scheme}`;
    if ('apiKey' in credential) {
      const value = collector.read(credential.apiKey, `${at}.apiKey`);
      if (value !== undefined) out.set(scheme, { kind: 'apiKey', value: value.trim() });
    } else if ('bearer' in credential) {
      const value = collector.read(credential.bearer, `${at}.bearer`);
      if (value !== undefined) out.set(scheme, { kind: 'authorization', value: `Bearer ${value.trim()}` });
    } else {
      const password = collector.read(credential.basic.password, `${at}.basic.password`);
      if (credential.basic.username.includes(':')) collector.add(`${at}.basic.username: must not contain ":" (RFC 7617)`);
      else if (password !== undefined) out.set(scheme, { kind: 'authorization', value: `Basic ${base64(`${credential.basic.username}:${password.trim()}`)}` });
    }
  }
  return out;
}

/**
 * Checks, at start, that every operation of an API can be sent as its spec requires: each credential its security
 * requirement needs is configured (and of the right kind), and an operation that declares `Authorization` without a
 * scheme has a token chosen. Every problem names the config path to set and the operations concerned.
 */
export function checkApiCredentials(
  at: { bank: string; api: string },
  routes: readonly RouteManifest[],
  configured: Readonly<Record<string, CredentialConfig>>,
  authorization: AuthorizationChoice | undefined,
  collector: ProblemCollector,
): void {
  const needed = new Map<string, { credential: CredentialManifest; operations: string[] }>();
  const undeclared: string[] = [];
  for (const route of routes) {
    for (const credential of route.credentials ?? []) {
      const entry = needed.get(credential.scheme) ?? { credential, operations: [] };
      entry.operations.push(route.operationId);
      needed.set(credential.scheme, entry);
    }
    if (route.authorizationUndeclared) undeclared.push(route.operationId);
    const scheme = route.securityScheme;
    if (scheme !== undefined && configured[scheme] !== undefined && 'apiKey' in configured[scheme]) {
      collector.add(`banks.${at.bank}.credentials.${scheme}: "${scheme}" is the token scheme of ${at.api}/${route.operationId}; give { bearer: … } or { basic: … } (a static Authorization), not an apiKey`);
    }
  }
  for (const [scheme, { credential, operations }] of needed) {
    const given = configured[scheme];
    const path = `banks.${at.bank}.credentials.${scheme}`;
    const ops = `${at.api}/${operations.slice(0, 3).join(', ')}${operations.length > 3 ? ` and ${operations.length - 3} more` : ''}`;
    const want = credential.type === 'apiKey' ? `{ apiKey: { env: 'NAME' } } (sent as ${credential.in} ${credential.name})` : `{ basic: { username: '…', password: { env: 'NAME' } } }`;
    if (given === undefined) collector.add(`${path}: ${ops} require${operations.length === 1 ? 's' : ''} the ${credential.type === 'apiKey' ? 'API key' : 'HTTP Basic credential'} "${scheme}"; set ${want}`);
    else if (credential.type === 'apiKey' ? !('apiKey' in given) : !('basic' in given)) collector.add(`${path}: "${scheme}" is an ${credential.type === 'apiKey' ? 'apiKey' : 'http basic'} scheme in the spec; set ${want}`);
  }
  if (undeclared.length > 0) {
    const path = `banks.${at.bank}.apis.${at.api}.authorization`;
    if (authorization === undefined) {
      const ops = `${undeclared.slice(0, 3).join(', ')}${undeclared.length > 3 ? ` and ${undeclared.length - 3} more` : ''}`;
      collector.add(`${path}: ${ops} declare${undeclared.length === 1 ? 's' : ''} an Authorization header but no security scheme; say which token it takes: { token: 'psu' }, { token: 'client', scopes: [...] }, { token: 'none' } or { credential: '<name in banks.${at.bank}.credentials>' } (here or in banks.${at.bank}.authorization), or with an overlay (x-bankgate-token)`);
    } else if ('credential' in authorization) {
      const given = configured[authorization.credential];
      if (given === undefined || 'apiKey' in given) collector.add(`${path}.credential: "${authorization.credential}" must name a { bearer } or { basic } entry of banks.${at.bank}.credentials`);
    }
  }
}

function base64(text: string): string {
  let binary = '';
  for (const byte of new TextEncoder().encode(text)) binary += String.fromCharCode(byte);
  return btoa(binary);
}
