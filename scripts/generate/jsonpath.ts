/**
 * The part of JSONPath (RFC 9535) that overlay targets need, with no dependency: `$`, `.name`, `['name']`,
 * `[0]`, `[-1]`, `*`, unions `['a','b']`, descendants `..name` / `..*` / `..[…]`, and filters
 * `[?(@.name == 'Authorization')]` / `[?@['$ref'] == '#/x']` with `== != < <= > >=`, `&& || !`, parentheses and
 * existence tests (`[?@.operationId]`). Function extensions (`length()`, `match()`, …) are rejected with a clear
 * message rather than half-supported.
 */

/** A selected node and where it sits, so that overlays can replace or remove it. `parent` is undefined for `$`. */
export interface JsonPathNode {
  readonly value: unknown;
  readonly parent: Record<string, unknown> | unknown[] | undefined;
  readonly key: string | number | undefined;
}

export class JsonPathError extends Error {
  override readonly name = 'JsonPathError';
}

type Selector =
  | { kind: 'name'; name: string }
  | { kind: 'index'; index: number }
  | { kind: 'wildcard' }
  | { kind: 'filter'; test: Expr };

interface Segment {
  readonly descendant: boolean;
  readonly selectors: readonly Selector[];
}

type Expr =
  | { kind: 'or' | 'and'; left: Expr; right: Expr }
  | { kind: 'not'; operand: Expr }
  | { kind: 'compare'; op: '==' | '!=' | '<' | '<=' | '>' | '>='; left: Operand; right: Operand }
  | { kind: 'exists'; path: Operand & { kind: 'path' } };

type Operand = { kind: 'literal'; value: unknown } | { kind: 'path'; root: '@' | '$'; segments: readonly Segment[] };

/** Every node `path` selects in `doc`, in document order. Throws JsonPathError for a malformed expression. */
export function queryJsonPath(doc: unknown, path: string): JsonPathNode[] {
  const parser = new Parser(path);
  const segments = parser.parseQuery();
  return evaluate(segments, [{ value: doc, parent: undefined, key: undefined }], doc);
}

function evaluate(segments: readonly Segment[], start: JsonPathNode[], root: unknown): JsonPathNode[] {
  let nodes = start;
  for (const segment of segments) {
    const next: JsonPathNode[] = [];
    for (const node of nodes) {
      const scope = segment.descendant ? descendantsOf(node) : [node];
      for (const each of scope) for (const selector of segment.selectors) next.push(...select(each, selector, root));
    }
    nodes = next;
  }
  return nodes;
}

/** The node itself and every node below it, depth first, in document order. */
function descendantsOf(node: JsonPathNode): JsonPathNode[] {
  const out: JsonPathNode[] = [node];
  for (const child of childrenOf(node.value)) out.push(...descendantsOf(child));
  return out;
}

function childrenOf(value: unknown): JsonPathNode[] {
  if (Array.isArray(value)) return value.map((item, index) => ({ value: item, parent: value, key: index }));
  if (value !== null && typeof value === 'object') {
    const record = value as Record<string, unknown>;
    return Object.keys(record).map((key) => ({ value: record[key], parent: record, key }));
  }
  return [];
}

function select(node: JsonPathNode, selector: Selector, root: unknown): JsonPathNode[] {
  const value = node.value;
  switch (selector.kind) {
    case 'name':
      if (value !== null && typeof value === 'object' && !Array.isArray(value) && Object.hasOwn(value, selector.name)) {
        return [{ value: (value as Record<string, unknown>)[selector.name], parent: value as Record<string, unknown>, key: selector.name }];
      }
      return [];
    case 'index': {
      if (!Array.isArray(value)) return [];
      const index = selector.index < 0 ? value.length + selector.index : selector.index;
      return index >= 0 && index < value.length ? [{ value: value[index], parent: value, key: index }] : [];
    }
    case 'wildcard':
      return childrenOf(value);
    case 'filter':
      return childrenOf(value).filter((child) => test(selector.test, child.value, root));
  }
}

function test(expr: Expr, current: unknown, root: unknown): boolean {
  switch (expr.kind) {
    case 'or':
      return test(expr.left, current, root) || test(expr.right, current, root);
    case 'and':
      return test(expr.left, current, root) && test(expr.right, current, root);
    case 'not':
      return !test(expr.operand, current, root);
    case 'exists':
      return resolveOperand(expr.path, current, root).length > 0;
    case 'compare': {
      const left = single(resolveOperand(expr.left, current, root));
      const right = single(resolveOperand(expr.right, current, root));
      return compare(expr.op, left, right);
    }
  }
}

/** Nothing is a value of its own in comparisons (RFC 9535 §2.3.5.2): `Nothing == Nothing`, never equal to null. */
const NOTHING = Symbol('nothing');

function single(values: unknown[]): unknown {
  return values.length === 1 ? values[0] : NOTHING;
}

function resolveOperand(operand: Operand, current: unknown, root: unknown): unknown[] {
  if (operand.kind === 'literal') return [operand.value];
  const start = operand.root === '@' ? current : root;
  return evaluate(operand.segments, [{ value: start, parent: undefined, key: undefined }], root).map((node) => node.value);
}

function compare(op: Extract<Expr, { kind: 'compare' }>['op'], left: unknown, right: unknown): boolean {
  switch (op) {
    case '==':
      return deepEqual(left, right);
    case '!=':
      return !deepEqual(left, right);
    default: {
      const comparable = (typeof left === 'number' && typeof right === 'number') || (typeof left === 'string' && typeof right === 'string');
      if (!comparable) return op === '<=' || op === '>=' ? deepEqual(left, right) : false;
      const [a, b] = [left as number | string, right as number | string];
      return op === '<' ? a < b : op === '<=' ? a <= b : op === '>' ? a > b : a >= b;
    }
  }
}

function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (a === null || b === null || typeof a !== 'object' || typeof b !== 'object') return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const keysA = Object.keys(a);
  const keysB = Object.keys(b);
  return keysA.length === keysB.length && keysA.every((key) => Object.hasOwn(b, key) && deepEqual((a as Record<string, unknown>)[key], (b as Record<string, unknown>)[key]));
}

/** Recursive descent over the expression text; every error names the column. */
class Parser {
  #at = 0;
  constructor(private readonly text: string) {}

  parseQuery(): Segment[] {
    this.#skipSpace();
    this.#expect('$');
    const segments = this.#segments();
    this.#skipSpace();
    if (this.#at < this.text.length) this.#fail(`unexpected "${this.text[this.#at]}"`);
    return segments;
  }

  #segments(): Segment[] {
    const segments: Segment[] = [];
    for (;;) {
      const save = this.#at;
      this.#skipSpace();
      if (this.text.startsWith('..', this.#at)) {
        this.#at += 2;
        if (this.text[this.#at] === '[') segments.push({ descendant: true, selectors: this.#bracket() });
        else segments.push({ descendant: true, selectors: [this.#dotSelector()] });
      } else if (this.text[this.#at] === '.') {
        this.#at++;
        segments.push({ descendant: false, selectors: [this.#dotSelector()] });
      } else if (this.text[this.#at] === '[') {
        segments.push({ descendant: false, selectors: this.#bracket() });
      } else {
        this.#at = save;
        return segments;
      }
    }
  }

  #dotSelector(): Selector {
    if (this.text[this.#at] === '*') {
      this.#at++;
      return { kind: 'wildcard' };
    }
    // Member names after a dot: letters, digits, `_`, `-`, `$` and any non-ASCII character.
    const match = /^[A-Za-z0-9_$\u0080-\uffff-]+/.exec(this.text.slice(this.#at));
    if (!match) this.#fail('expected a member name or * after "."');
    this.#at += match[0].length;
    return { kind: 'name', name: match[0] };
  }

  #bracket(): Selector[] {
    this.#expect('[');
    const selectors: Selector[] = [];
    do {
      this.#skipSpace();
      selectors.push(this.#bracketSelector());
      this.#skipSpace();
    } while (this.#eat(','));
    this.#expect(']');
    return selectors;
  }

  #bracketSelector(): Selector {
    const c = this.text[this.#at];
    if (c === '*') {
      this.#at++;
      return { kind: 'wildcard' };
    }
    if (c === "'" || c === '"') return { kind: 'name', name: this.#string() };
    if (c === '?') {
      this.#at++;
      return { kind: 'filter', test: this.#or() };
    }
    const number = /^-?\d+/.exec(this.text.slice(this.#at));
    if (number) {
      this.#at += number[0].length;
      if (this.text[this.#at] === ':') this.#fail('array slices are not supported in overlay targets');
      return { kind: 'index', index: Number(number[0]) };
    }
    return this.#fail('expected a quoted name, an index, * or a ?filter inside [ ]');
  }

  #or(): Expr {
    let left = this.#and();
    while (this.#eatOp('||')) left = { kind: 'or', left, right: this.#and() };
    return left;
  }

  #and(): Expr {
    let left = this.#unary();
    while (this.#eatOp('&&')) left = { kind: 'and', left, right: this.#unary() };
    return left;
  }

  #unary(): Expr {
    this.#skipSpace();
    if (this.text[this.#at] === '!' && this.text[this.#at + 1] !== '=') {
      this.#at++;
      return { kind: 'not', operand: this.#unary() };
    }
    if (this.text[this.#at] === '(') {
      this.#at++;
      const inner = this.#or();
      this.#skipSpace();
      this.#expect(')');
      return inner;
    }
    const left = this.#operand();
    this.#skipSpace();
    const op = /^(==|!=|<=|>=|<|>)/.exec(this.text.slice(this.#at))?.[1] as Extract<Expr, { kind: 'compare' }>['op'] | undefined;
    if (op === undefined) {
      if (left.kind !== 'path') this.#fail('a literal on its own is not a test; compare it with ==');
      return { kind: 'exists', path: left };
    }
    this.#at += op.length;
    return { kind: 'compare', op, left, right: this.#operand() };
  }

  #operand(): Operand {
    this.#skipSpace();
    const c = this.text[this.#at];
    if (c === '@' || c === '$') {
      this.#at++;
      return { kind: 'path', root: c, segments: this.#segments() };
    }
    if (c === "'" || c === '"') return { kind: 'literal', value: this.#string() };
    const literal = /^(true|false|null|-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)/.exec(this.text.slice(this.#at));
    if (literal) {
      this.#at += literal[0].length;
      return { kind: 'literal', value: JSON.parse(literal[0]) as unknown };
    }
    if (/^[a-z_]+\(/.test(this.text.slice(this.#at))) this.#fail('filter functions (length(), match(), …) are not supported in overlay targets');
    return this.#fail('expected @, $, a string, a number, true, false or null');
  }

  #string(): string {
    const quote = this.text[this.#at]!;
    let out = '';
    for (this.#at++; this.#at < this.text.length; this.#at++) {
      const c = this.text[this.#at]!;
      if (c === quote) {
        this.#at++;
        return out;
      }
      if (c === '\\') {
        const next = this.text[++this.#at];
        const escapes: Record<string, string> = { b: '\b', f: '\f', n: '\n', r: '\r', t: '\t', '/': '/', '\\': '\\', "'": "'", '"': '"' };
        if (next === 'u') {
          out += String.fromCharCode(parseInt(this.text.slice(this.#at + 1, this.#at + 5), 16));
          this.#at += 4;
        } else if (next !== undefined && escapes[next] !== undefined) out += escapes[next];
        else this.#fail(`bad escape \\${next ?? ''}`);
      } else out += c;
    }
    return this.#fail('unterminated string');
  }

  #eatOp(op: string): boolean {
    this.#skipSpace();
    if (!this.text.startsWith(op, this.#at)) return false;
    this.#at += op.length;
    return true;
  }

  #eat(c: string): boolean {
    if (this.text[this.#at] !== c) return false;
    this.#at++;
    return true;
  }

  #expect(c: string): void {
    if (!this.#eat(c)) this.#fail(`expected "${c}"`);
  }

  #skipSpace(): void {
    while (/\s/.test(this.text[this.#at] ?? '')) this.#at++;
  }

  #fail(reason: string): never {
    throw new JsonPathError(`${reason} at column ${this.#at + 1} of ${this.text}`);
  }
}
