/** JSON pointers (RFC 6901) in URI-fragment form, as `$ref` uses them: `#/paths/~1accounts/get`. */

export function escapeToken(token: string | number): string {
  return String(token).replaceAll('~', '~0').replaceAll('/', '~1');
}

export function pointerOf(tokens: readonly (string | number)[]): string {
  return tokens.length === 0 ? '#' : `#/${tokens.map(escapeToken).join('/')}`;
}

/** Resolves a local `#/…` pointer in `doc`; `undefined` when any step is missing. */
export function resolvePointer(doc: unknown, ref: string): unknown {
  if (ref === '#' || ref === '#/') return ref === '#' ? doc : undefined;
  if (!ref.startsWith('#/')) return undefined;
  let node: unknown = doc;
  for (const raw of ref.slice(2).split('/')) {
    // $ref fragments may be percent-encoded (`#/paths/~1a%7Bb%7D`), then RFC 6901-escaped.
    let token: string;
    try {
      token = decodeURIComponent(raw);
    } catch {
      token = raw;
    }
    token = token.replaceAll('~1', '/').replaceAll('~0', '~');
    if (node === null || typeof node !== 'object' || !Object.hasOwn(node, token)) return undefined;
    node = (node as Record<string, unknown>)[token];
  }
  return node;
}

/** Follows `$ref` chains (local only) until a non-reference object; `undefined` if one breaks or loops. */
export function deref(doc: unknown, value: unknown): unknown {
  const seen = new Set<string>();
  let node = value;
  while (node !== null && typeof node === 'object' && typeof (node as { $ref?: unknown }).$ref === 'string') {
    const ref = (node as { $ref: string }).$ref;
    if (seen.has(ref)) return undefined;
    seen.add(ref);
    node = resolvePointer(doc, ref);
  }
  return node;
}

function decodeToken(raw: string): string {
  let token: string;
  try {
    token = decodeURIComponent(raw);
  } catch {
    token = raw;
  }
  return token.replaceAll('~1', '/').replaceAll('~0', '~');
}

/**
 * The pointer a local `$ref` really lands on when its path runs through other `$ref`s
 * (`#/components/schemas/A/properties/b` where `A` is `{ $ref: '#/components/schemas/B' }` →
 * `#/components/schemas/B/properties/b`), as mainstream resolvers follow it; the pointer itself when it resolves
 * directly; `undefined` when it does not resolve either way (or loops).
 */
export function canonicalPointer(doc: unknown, ref: string): string | undefined {
  if (ref === '#') return ref;
  if (!ref.startsWith('#/')) return undefined;
  let tokens: string[] = [];
  let node: unknown = doc;
  const pending = ref.slice(2).split('/').map(decodeToken);
  let hops = 0;
  while (pending.length > 0) {
    const target = node !== null && typeof node === 'object' ? (node as { $ref?: unknown }).$ref : undefined;
    if (typeof target === 'string' && target.startsWith('#')) {
      if (++hops > 64) return undefined;
      // A reference in the middle of the path: continue from where it points.
      tokens = target === '#' ? [] : target.slice(2).split('/').map(decodeToken);
      node = doc;
      for (const token of tokens) {
        if (node === null || typeof node !== 'object' || !Object.hasOwn(node, token)) return undefined;
        node = (node as Record<string, unknown>)[token];
      }
      continue;
    }
    const token = pending.shift()!;
    if (node === null || typeof node !== 'object' || !Object.hasOwn(node, token)) return undefined;
    node = (node as Record<string, unknown>)[token];
    tokens.push(token);
  }
  return pointerOf(tokens);
}
