import { pointerOf } from './json-pointer.js';
import type { SpecDocument } from './load-spec.js';

/** Keys OpenAPI 3.1 allows beside `$ref` (a Reference Object's own `summary` and `description`). */
const ALLOWED_31 = new Set(['summary', 'description']);

/**
 * Drops the keys next to `$ref` that OpenAPI 3.0 says SHALL be ignored (`{ $ref, nullable: true, description }`),
 * mutating `doc`, so that both generators read the same document the spec means instead of each guessing. In 3.1
 * `summary` and `description` are kept. Returns the pointer of each `$ref` that had siblings dropped, and which.
 */
export function dropRefSiblings(doc: SpecDocument): { pointer: string; dropped: string[] }[] {
  const keepDescriptions = typeof doc['openapi'] === 'string' && doc['openapi'].startsWith('3.1');
  const found: { pointer: string; dropped: string[] }[] = [];
  const walk = (node: unknown, tokens: (string | number)[]): void => {
    if (Array.isArray(node)) {
      node.forEach((item, index) => walk(item, [...tokens, index]));
      return;
    }
    if (node === null || typeof node !== 'object') return;
    const record = node as Record<string, unknown>;
    if (typeof record['$ref'] === 'string') {
      const dropped = Object.keys(record).filter((key) => key !== '$ref' && !(keepDescriptions && ALLOWED_31.has(key)));
      for (const key of dropped) delete record[key];
      if (dropped.length > 0) found.push({ pointer: pointerOf(tokens), dropped });
      return;
    }
    for (const [key, value] of Object.entries(record)) {
      // Examples and extensions are free-form data: a `$ref` key there is content, not a reference.
      if (key === 'example' || key === 'examples' || key.startsWith('x-')) continue;
      walk(value, [...tokens, key]);
    }
  };
  walk(doc, []);
  return found;
}
