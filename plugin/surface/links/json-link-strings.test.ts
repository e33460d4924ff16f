import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { rewriteJsonLinks } from './bank-links.js';
import { jsonLinkStrings } from './json-link-strings.js';

/**
 * The meaning of "a link" written over the parsed document, as the rewrite did before it learnt to leave the bank's
 * bytes alone: the oracle the scanner is held to.
 */
function linksOfDocument(document: unknown): string[] {
  // By the object and member holding them: a string that is a link by two rules (an `href` of a link that is also
  // a member of `Links`) is one link.
  const found = new Map<object, Map<string, string>>();
  const add = (holder: object, key: string, value: unknown) => {
    if (typeof value !== 'string') return;
    if (!found.has(holder)) found.set(holder, new Map());
    found.get(holder)!.set(key, value);
  };
  const walk = (value: unknown, depth: number): void => {
    if (depth > 32 || value === null || typeof value !== 'object') return;
    if (Array.isArray(value)) return void value.forEach((item) => walk(item, depth + 1));
    for (const [key, member] of Object.entries(value)) {
      if (key === '_links' && member !== null && typeof member === 'object' && !Array.isArray(member)) {
        for (const link of Object.values(member as Record<string, unknown>)) {
          for (const one of Array.isArray(link) ? link : [link]) if (one !== null && typeof one === 'object' && !Array.isArray(one)) add(one, 'href', (one as { href?: unknown }).href);
        }
      } else if (key === 'Links' && member !== null && typeof member === 'object' && !Array.isArray(member)) {
        for (const [rel, link] of Object.entries(member as Record<string, unknown>)) add(member, rel, link);
      }
      walk(member, depth + 1);
    }
  };
  walk(document, 0);
  return [...found.values()].flatMap((links) => [...links.values()]);
}

const text = fc.oneof(fc.constantFrom('/accounts/A1', 'https://bank.example/x?y=1', 'é/ü', '"quoted"', 'back\\slash', '\u2028', ''), fc.string());
const key = fc.oneof(fc.constantFrom('_links', 'Links', 'href', 'self', 'balances', 'accounts', '_embedded'), fc.string({ maxLength: 6 }));
/** JSON values where `_links` and `Links` members are likely, shaped right or wrong. */
const document = fc.letrec((tie) => ({
  value: fc.oneof({ depthSize: 'small' }, text, fc.integer(), fc.double({ noNaN: true, noDefaultInfinity: true }), fc.boolean(), fc.constant(null), tie('array'), tie('object'), tie('hal'), tie('uk')),
  array: fc.array(tie('value'), { maxLength: 4 }),
  object: fc.dictionary(key, tie('value'), { maxKeys: 5 }),
  link: fc.record({ href: text }, { requiredKeys: [] }).chain((link) => fc.dictionary(key, tie('value'), { maxKeys: 2 }).map((extra) => ({ ...extra, ...link }))),
  hal: fc.dictionary(key, fc.oneof(tie('link'), fc.array(tie('link'), { maxLength: 3 }), tie('value')), { maxKeys: 3 }).map((links) => ({ _links: links })),
  uk: fc.dictionary(key, fc.oneof(text, tie('value')), { maxKeys: 3 }).map((links) => ({ Links: links })),
}));

describe('jsonLinkStrings', () => {
  it('finds exactly the links the parsed document has, in any formatting', () => {
    fc.assert(
      fc.property(document.value, fc.constantFrom(undefined, 2, '\t'), (value, indent) => {
        const source = JSON.stringify(value, null, indent);
        const found = jsonLinkStrings(source);
        expect(found?.map((link) => link.value).sort()).toEqual(linksOfDocument(value).sort());
        // Each position names the literal of its value.
        for (const link of found!) expect(JSON.parse(source.slice(link.start, link.end))).toBe(link.value);
      }),
      { numRuns: 500 },
    );
  });

  it('rewrites them as the document walk would, and keeps every other byte', () => {
    fc.assert(
      fc.property(document.value, fc.constantFrom(undefined, 2), (value, indent) => {
        const source = JSON.stringify(value, null, indent);
        const map = (href: string) => (href.length % 2 === 0 ? `/gw${href}` : undefined);
        const rewritten = rewriteJsonLinks(source, map);
        const changes = linksOfDocument(value).filter((href) => map(href) !== undefined);
        if (changes.length === 0) return void expect(rewritten).toBeUndefined();
        const reparsed = JSON.parse(rewritten!) as unknown;
        expect(linksOfDocument(reparsed).sort()).toEqual(linksOfDocument(value).map((href) => map(href) ?? href).sort());
      }),
      { numRuns: 500 },
    );
  });

  it('answers undefined for what is not strict JSON, so the bank bytes pass untouched', () => {
    for (const broken of ['{"_links": ', '{"_links":{"a":{"href":"x"}}', "{'_links':1}", '{"a":01}', '{"a":"\\x"}', '{"a":"\u0001"}', '{"a":1,}', '[1 2]', '{"a":1} x', '', 'NaN', '{"a":-}']) {
      expect(jsonLinkStrings(broken), broken).toBeUndefined();
      expect(() => JSON.parse(broken), broken).toThrow();
    }
    fc.assert(
      fc.property(fc.string(), (junk) => {
        let valid = true;
        try {
          JSON.parse(junk);
        } catch {
          valid = false;
        }
        expect(jsonLinkStrings(junk) !== undefined).toBe(valid);
      }),
    );
  });

  it('keeps the bank\'s formatting and escapes outside the links', () => {
    const source = '{\n  "name": "caf\\u00e9",\n  "_links": { "self": { "href": "/accounts/A1" } },\n  "n": 1.50\n}';
    expect(rewriteJsonLinks(source, (href) => `/gw${href}`)).toBe('{\n  "name": "caf\\u00e9",\n  "_links": { "self": { "href": "/gw/accounts/A1" } },\n  "n": 1.50\n}');
  });
});
