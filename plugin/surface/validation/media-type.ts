/**
 * Media types by the rules (RFC 9110 §8.3.1, §12.5.1): type and subtype compared case-insensitively, parameters
 * (`; charset=utf-8`) not part of the match, ranges (`*\/*`, `application/*`) matching what they cover, the most
 * specific declaration winning, and `+json` suffixes (RFC 6839) read as JSON.
 */
export interface MediaType {
  /** Lower-case: `application`, `*`. */
  readonly type: string;
  /** Lower-case: `hal+json`, `*`. */
  readonly subtype: string;
}

const TOKEN = /^[!#$%&'*+.^_`|~0-9a-z-]+$/;

/** `Application/HAL+JSON; charset=utf-8` → `{ type: 'application', subtype: 'hal+json' }`; undefined when malformed. */
export function parseMediaType(value: string): MediaType | undefined {
  const essence = value.split(';', 1)[0]!.trim().toLowerCase();
  const slash = essence.indexOf('/');
  if (slash <= 0) return undefined;
  const type = essence.slice(0, slash);
  const subtype = essence.slice(slash + 1);
  if (!TOKEN.test(type) || !TOKEN.test(subtype) || (type === '*' && subtype !== '*')) return undefined;
  return { type, subtype };
}

/** How specifically `range` covers `actual`: 3 exact, 2 `type/*`, 1 `*\/*`, 0 not at all. */
function specificity(range: MediaType, actual: MediaType): number {
  if (range.type === '*') return 1;
  if (range.type !== actual.type) return 0;
  if (range.subtype === '*') return 2;
  return range.subtype === actual.subtype ? 3 : 0;
}

/**
 * The declared media type (as the spec spells it) that covers `actual`, the most specific one when several do;
 * undefined when none does or `actual` is malformed.
 * @example matchMediaType(['application/json; charset=utf-8', '*\/*'], 'Application/JSON') // 'application/json; charset=utf-8'
 */
export function matchMediaType(declared: readonly string[], actual: string): string | undefined {
  const parsed = parseMediaType(actual);
  if (!parsed) return undefined;
  let best: string | undefined;
  let bestScore = 0;
  for (const candidate of declared) {
    const range = parseMediaType(candidate);
    const score = range ? specificity(range, parsed) : 0;
    if (score > bestScore) {
      best = candidate;
      bestScore = score;
    }
  }
  return best;
}

/** `application/json`, `application/hal+json; charset=utf-8`, `application/problem+json`, `text/json`: a JSON body. */
export function isJsonMediaType(value: string): boolean {
  const parsed = parseMediaType(value);
  if (!parsed) return false;
  return parsed.subtype === 'json' || parsed.subtype.endsWith('+json');
}

/** A media range (`*\/*`, `application/*`) rather than one concrete type. */
export function isMediaRange(value: string): boolean {
  const parsed = parseMediaType(value);
  return parsed !== undefined && (parsed.type === '*' || parsed.subtype === '*');
}
