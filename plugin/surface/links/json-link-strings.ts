/**
 * Where the links of a JSON document are, without building the document: the string literals that are an `href`
 * of a HAL link (a member of a `_links` object, or an item of an array there) and the string members of a UK Open
 * Banking `Links` object, at any depth. Rewriting then replaces those literals and keeps every other byte the bank
 * sent (a parse and re-serialisation cost most of a link rewrite, and reformatted the bank's answer).
 * Strict JSON (RFC 8259): anything else answers undefined, and the answer is left as the bank sent it.
 */

/** One link: the literal's `[start, end)` in the text, quotes included, and its value. */
export interface LinkString {
  readonly start: number;
  readonly end: number;
  readonly value: string;
}

/** What the value being read is to its parents (flags: a member of `_links` is a link, and its own members follow the rules too). */
const HAL_LINKS = 1; // the value of a `_links` member: its members are links or arrays of links
const HAL_LINK = 2; // a HAL link, or an array of them
const HAL_LINK_ITEM = 4; // an item of an array of HAL links
const UK_LINKS = 8; // the value of a `Links` member: its string members are links

/** Deeper than this, nothing more is looked at (as the document walk did before), but the text must still be JSON. */
const MAX_DEPTH = 32;
const LITERAL = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?|true|false|null/y;

export function jsonLinkStrings(text: string): LinkString[] | undefined {
  const scanner = new Scanner(text);
  try {
    scanner.value(0, 0);
    scanner.space();
    if (scanner.at !== text.length) return undefined;
  } catch {
    return undefined;
  }
  return scanner.found.sort((a, b) => a.start - b.start);
}

/** A recursive-descent reader that builds nothing but the list of link literals (a class: one allocation per scan). */
class Scanner {
  at = 0;
  readonly found: LinkString[] = [];
  constructor(readonly text: string) {}

  space(): void {
    const text = this.text;
    let at = this.at;
    for (let code = text.charCodeAt(at); code === 0x20 || code === 0x0a || code === 0x0d || code === 0x09; code = text.charCodeAt(++at));
    this.at = at;
  }

  /** Skips the string literal at `at` (on its opening quote); answers whether it had escapes. */
  skipString(): boolean {
    const text = this.text;
    let at = this.at + 1;
    let escaped = false;
    for (;;) {
      const code = text.charCodeAt(at);
      if (code === 0x22) break;
      if (code === 0x5c) {
        escaped = true;
        at += 2;
      } else if (code < 0x20 || Number.isNaN(code)) throw new SyntaxError('control character or end of text in a string');
      else at++;
    }
    this.at = at + 1;
    return escaped;
  }

  /** The value of the string literal `[start, end)`. */
  stringValue(start: number, end: number, escaped: boolean): string {
    return escaped ? (JSON.parse(this.text.slice(start, end)) as string) : this.text.slice(start + 1, end - 1);
  }

  /** Reads any value at `at`; answers whether it was a string. */
  value(role: number, depth: number): boolean {
    this.space();
    const code = this.text.charCodeAt(this.at);
    if (code === 0x22) {
      const start = this.at;
      if (this.skipString()) this.stringValue(start, this.at, true); // its escapes must be JSON's
      return true;
    }
    if (code === 0x7b) this.object(role, depth);
    else if (code === 0x5b) this.array(role, depth);
    else {
      LITERAL.lastIndex = this.at;
      if (!LITERAL.test(this.text)) throw new SyntaxError(`unexpected character at ${this.at}`);
      this.at = LITERAL.lastIndex;
    }
    return false;
  }

  object(role: number, depth: number): void {
    const text = this.text;
    this.at++;
    this.space();
    if (text.charCodeAt(this.at) === 0x7d) {
      this.at++;
      return;
    }
    let href: LinkString | undefined;
    for (;;) {
      this.space();
      if (text.charCodeAt(this.at) !== 0x22) throw new SyntaxError(`expected a member name at ${this.at}`);
      const keyStart = this.at;
      const keyEscaped = this.skipString();
      // The three names that matter, compared in place (an escaped name is read: `"\u0068ref"` is `href`).
      const keyEnd = this.at;
      const key = keyEscaped ? this.stringValue(keyStart, keyEnd, true) : undefined;
      this.space();
      if (text.charCodeAt(this.at) !== 0x3a) throw new SyntaxError(`expected ':' at ${this.at}`);
      this.at++;
      this.space();
      const start = this.at;
      const deep = depth >= MAX_DEPTH;
      const child = deep ? 0 : (role & HAL_LINKS ? HAL_LINK : 0) | (this.named(keyStart, keyEnd, key, '_links') ? HAL_LINKS : this.named(keyStart, keyEnd, key, 'Links') ? UK_LINKS : 0);
      if (this.value(child, depth + 1) && !deep) {
        // A link object's `href` (the last one counts, as for JSON.parse); any string member of `Links`.
        if (role & (HAL_LINK | HAL_LINK_ITEM) && this.named(keyStart, keyEnd, key, 'href')) href = this.link(start);
        else if (role & UK_LINKS) this.found.push(this.link(start));
      }
      this.space();
      const next = text.charCodeAt(this.at++);
      if (next === 0x7d) break;
      if (next !== 0x2c) throw new SyntaxError(`expected ',' or '}' at ${this.at - 1}`);
    }
    if (href) this.found.push(href);
  }

  /** The member name `[start, end)` (its value `key` when it had escapes) is `name`. */
  named(start: number, end: number, key: string | undefined, name: string): boolean {
    return key === undefined ? end - start === name.length + 2 && this.text.startsWith(name, start + 1) : key === name;
  }

  /** The link whose literal starts at `start` and ends at `at`. */
  link(start: number): LinkString {
    const literal = this.text.slice(start, this.at);
    return { start, end: this.at, value: literal.includes('\\') ? (JSON.parse(literal) as string) : literal.slice(1, -1) };
  }

  array(role: number, depth: number): void {
    const text = this.text;
    this.at++;
    this.space();
    if (text.charCodeAt(this.at) === 0x5d) {
      this.at++;
      return;
    }
    // An array of links under `_links` holds links; an array anywhere else holds plain values.
    const item = depth < MAX_DEPTH && role & HAL_LINK ? HAL_LINK_ITEM : 0;
    for (;;) {
      this.value(item, depth + 1);
      this.space();
      const next = text.charCodeAt(this.at++);
      if (next === 0x5d) break;
      if (next !== 0x2c) throw new SyntaxError(`expected ',' or ']' at ${this.at - 1}`);
    }
  }
}
