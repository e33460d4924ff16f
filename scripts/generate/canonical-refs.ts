import { canonicalPointer, pointerOf, resolvePointer } from './json-pointer.js';
import type { SpecDocument } from './load-spec.js';

/**
 * Rewrites every local `$ref` whose pointer runs through another `$ref` to the pointer it lands on, mutating `doc`, so
 * that every consumer (both generators, the gateway's validator) resolves it the same way without following references
 * inside pointers. Returns the pointer of each `$ref` rewritten.
 */
export function canonicaliseRefs(doc: SpecDocument): { pointer: string; from: string; to: string }[] {
  const rewritten: { pointer: string; from: string; to: string }[] = [];
  const walk = (node: unknown, tokens: (string | number)[]): void => {
    if (Array.isArray(node)) {
      node.forEach((item, index) => walk(item, [...tokens, index]));
      return;
    }
    if (node === null || typeof node !== 'object') return;
    const record = node as Record<string, unknown>;
    const ref = record['$ref'];
    if (typeof ref === 'string' && ref.startsWith('#/') && resolvePointer(doc, ref) === undefined) {
      const to = canonicalPointer(doc, ref);
      if (to !== undefined) {
        record['$ref'] = to;
        rewritten.push({ pointer: pointerOf(tokens), from: ref, to });
      }
    }
    for (const [key, value] of Object.entries(record)) {
      if (key === 'example' || key === 'examples' || key.startsWith('x-')) continue;
      walk(value, [...tokens, key]);
    }
  };
  walk(doc, []);
  return rewritten;
}
