import { deref } from './json-pointer.js';
import type { SpecDocument } from './load-spec.js';

type Json = Record<string, unknown>;

/**
 * JSON in any spelling banks use: `application/json`, `application/hal+json; charset=utf-8`, `application/problem+json`,
 * and `*\/*` (a wildcard error body is JSON in practice and typed as such by both generators).
 */
export function isJsonMediaType(mediaType: string): boolean {
  const bare = mediaType.split(';')[0]!.trim().toLowerCase();
  return bare === 'application/json' || bare.endsWith('+json') || bare === '*/*';
}

/** Request bodies the typed SDK can build: JSON and URL-encoded forms. */
function isTypedRequest(mediaType: string): boolean {
  return isJsonMediaType(mediaType) || mediaType.split(';')[0]!.trim().toLowerCase() === 'application/x-www-form-urlencoded';
}

/**
 * Why part of an operation is beyond the typed surface, or undefined when all of it is covered. XML, multipart and
 * text bodies are forwarded as bytes by the gateway, but neither the SDK nor the route types describe them, and an
 * operation whose body exists only in such a form cannot be called through the SDK at all.
 */
export function unsupportedReason(doc: SpecDocument, operation: Json): string | undefined {
  const reasons: string[] = [];
  const body = deref(doc, operation['requestBody']) as Json | undefined;
  const requestTypes = Object.keys(((body?.['content'] ?? {}) as Json) ?? {});
  const untypedRequest = requestTypes.filter((type) => !isTypedRequest(type));
  if (untypedRequest.length > 0 && untypedRequest.length === requestTypes.length) {
    reasons.push(`request body only as ${untypedRequest.join(', ')}: the SDK cannot build it (callers send the bytes through the gateway)`);
  } else if (untypedRequest.length > 0) {
    reasons.push(`request body as ${untypedRequest.join(', ')} is not typed (only JSON is); the gateway forwards it as sent`);
  }
  for (const [status, raw] of Object.entries((operation['responses'] ?? {}) as Json)) {
    if (!/^2/.test(status)) continue;
    const response = deref(doc, raw) as Json | undefined;
    const types = Object.keys((response?.['content'] ?? {}) as Json);
    const untyped = types.filter((type) => !isJsonMediaType(type));
    if (untyped.length > 0) reasons.push(`response ${status} as ${untyped.join(', ')} is not typed (only JSON is); the gateway passes it through`);
  }
  return reasons.length > 0 ? reasons.join('; ') : undefined;
}
