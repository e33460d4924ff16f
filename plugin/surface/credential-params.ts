import type { CredentialManifest } from '../manifest/types.js';

/**
 * True when a parameter of the spec (`in`, `name`) is where one of the operation's credentials goes (an `apiKey`
 * header, query parameter or cookie): the gateway's to fill, never the caller's. Header and cookie names compare
 * case-insensitively, query names exactly.
 */
export function isCredentialParam(credentials: readonly CredentialManifest[] | undefined, where: string, name: string): boolean {
  if (!credentials) return false;
  return credentials.some((c) => c.type === 'apiKey' && c.in === where && (where === 'query' ? c.name === name : c.name.toLowerCase() === name.toLowerCase()));
}
