import { BankgateError } from '../errors/bankgate-error.js';

function reject(why: string): BankgateError {
  return new BankgateError('path_rejected', { status: 400, detail: `request path rejected: ${why}` });
}

const ENCODED_SEPARATOR = /%(2f|5c|00)/i;
// eslint-disable-next-line no-control-regex
const NEEDS_DECODING = /[%\u0000-\u001f\u007f]/;

/**
 * Splits a raw request path into decoded segments, refusing anything that could steer the bank call to
 * another path: dot segments in any spelling (`..`, `%2e%2e`, `.%2E`), empty segments (`//host`),
 * backslashes, encoded separators and control characters. Takes the path as the client sent it, before
 * any URL normalisation hid a `..`.
 */
export function safePathSegments(rawPath: string): string[] {
  if (!rawPath.startsWith('/')) throw reject('it must start with "/" (absolute-form request targets are not accepted)');
  if (rawPath.includes('\\')) throw reject('backslash');
  if (ENCODED_SEPARATOR.test(rawPath)) throw reject('encoded "/", "\\" or NUL');
  const trimmed = rawPath.length > 1 && rawPath.endsWith('/') ? rawPath.slice(0, -1) : rawPath;
  const raw = trimmed.split('/').slice(1);
  // The common case, a plain path: nothing to decode, so only empty and dot segments are left to refuse.
  if (!NEEDS_DECODING.test(trimmed)) {
    for (const part of raw) {
      if (part === '') throw reject('empty path segment ("//")');
      if (part === '.' || part === '..') throw reject('dot segment');
    }
    return raw;
  }
  const segments: string[] = [];
  for (const part of raw) {
    if (part === '') throw reject('empty path segment ("//")');
    let decoded: string;
    try {
      decoded = decodeURIComponent(part);
    } catch {
      throw reject('malformed percent-encoding');
    }
    if (decoded === '.' || decoded === '..') throw reject('dot segment');
    // eslint-disable-next-line no-control-regex
    if (/[\u0000-\u001f\u007f]/.test(decoded)) throw reject('control character');
    segments.push(decoded);
  }
  return segments;
}

/**
 * What a path parameter may hold so that `safePathSegments` lets the call through, as JSON Schema: the surface
 * document gives it to path parameters the bank declares as bare strings, so that a request valid by the document
 * is never refused by the guard (no control characters, no separators, no dot segments).
 */
export const PATH_SEGMENT_SCHEMA = {
  type: 'string',
  minLength: 1,
  pattern: '^[^\\u0000-\\u001f\\u007f/\\\\]+$',
  not: { enum: ['.', '..'] },
} as const;

/** The path of a request target (`/a/b?x=1` → `/a/b`), as sent. */
export function rawPathOf(target: string): string {
  const query = target.indexOf('?');
  return query === -1 ? target : target.slice(0, query);
}
