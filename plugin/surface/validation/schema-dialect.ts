/**
 * One schema dialect inside the gateway. Bank specs write schemas in the OpenAPI 3.0 dialect (a JSON Schema draft-04
 * variant: boolean `exclusiveMinimum`, `nullable`), in Swagger 2.0 leftovers (`x-nullable`, `type: file`) and with
 * mistakes published anyway (`required: false` on a property). The validator (Ajv, JSON Schema draft-07 semantics)
 * compiles none of those as meant. `toValidatorDialect` rewrites a whole OpenAPI document into what Ajv compiles with
 * the meaning the spec intended; the generator runs the same function to prove, at generation, that every operation
 * compiles. Portable: plain data in, plain data out.
 */

type Json = Record<string, unknown>;

/** Keys whose values are data or free text, never schemas: not rewritten. */
const DATA_KEYS = new Set(['example', 'examples', 'default', 'enum', 'const', 'description', 'externalDocs', 'xml']);

/**
 * A deep copy of `document` with every schema rewritten:
 * - `exclusiveMinimum: true` + `minimum: n` → `exclusiveMinimum: n` (and the same for maximum); `false` dropped;
 * - `nullable: true` / `x-nullable: true` → `null` added to `type` (and to `enum`), or `anyOf [schema, null]` without a type;
 * - `required: true|false` on a property → the parent's `required` list (true) or nothing (false);
 * - `type: file` (Swagger 2.0) dropped: a binary body is not JSON-validated;
 * - a `pattern` written for ECMA-262 without the `u` flag (`\+[0-9]{1,3}\-…`: escapes `u` refuses) rewritten to the
 *   same language with the needless escapes dropped, since JSON Schema patterns are compiled as Unicode.
 */
export function toValidatorDialect<T>(document: T): T {
  return rewrite(document, undefined) as T;
}

/** Keys whose values are maps from names to objects (schemas, parameters, …): the map itself is not a schema. */
const MAPS = new Set(['properties', 'patternProperties', 'definitions', 'schemas', 'paths', 'responses', 'content', 'headers', 'parameters', 'requestBodies', 'securitySchemes', 'links', 'callbacks', 'encoding', 'components', 'webhooks', '$defs']);

function rewrite(node: unknown, key: string | undefined): unknown {
  if (Array.isArray(node)) return node.map((item) => rewrite(item, undefined));
  if (node === null || typeof node !== 'object') return node;
  const source = node as Json;
  // `required: true` on a property means "in the parent's required list": read before the properties are rewritten.
  const hoisted = requiredProperties(key === undefined || !MAPS.has(key) ? source['properties'] : undefined);
  const out: Json = {};
  for (const [name, value] of Object.entries(source)) {
    out[name] = DATA_KEYS.has(name) || name.startsWith('x-') ? value : rewrite(value, name);
  }
  if (key === undefined || !MAPS.has(key)) rewriteSchema(out, hoisted);
  return out;
}

function requiredProperties(properties: unknown): string[] {
  if (properties === null || typeof properties !== 'object' || Array.isArray(properties)) return [];
  return Object.entries(properties as Json).flatMap(([name, property]) => (property !== null && typeof property === 'object' && (property as Json)['required'] === true ? [name] : []));
}

/** Rewrites one (possible) schema object in place; objects that are not schemas have none of these keys as such. */
function rewriteSchema(schema: Json, hoisted: readonly string[]): void {
  for (const [flag, bound] of [['exclusiveMinimum', 'minimum'], ['exclusiveMaximum', 'maximum']] as const) {
    if (typeof schema[flag] !== 'boolean') continue;
    if (schema[flag] === true && typeof schema[bound] === 'number') {
      schema[flag] = schema[bound];
      delete schema[bound];
    } else delete schema[flag];
  }
  // `required` that is not a list on a schema means nothing in any dialect (parameters, headers and request bodies,
  // whose `required` is a boolean, carry `in`, `schema` or `content`); a property's `true` was hoisted to its parent.
  if (typeof schema['required'] === 'boolean' && !('in' in schema) && !('schema' in schema) && !('content' in schema)) delete schema['required'];
  if (hoisted.length > 0) {
    const required = Array.isArray(schema['required']) ? [...(schema['required'] as unknown[])] : [];
    for (const name of hoisted) if (!required.includes(name)) required.push(name);
    schema['required'] = required;
  }
  if (schema['type'] === 'file') delete schema['type'];
  if (typeof schema['pattern'] === 'string') schema['pattern'] = unicodePattern(schema['pattern']);
  const nullable = schema['nullable'] === true || schema['x-nullable'] === true;
  delete schema['nullable'];
  if (nullable && typeof schema['$ref'] !== 'string') allowNull(schema);
}

function allowNull(schema: Json): void {
  const type = schema['type'];
  if (typeof type === 'string' || Array.isArray(type)) {
    const types = Array.isArray(type) ? type : [type];
    if (!types.includes('null')) schema['type'] = [...types, 'null'];
    if (Array.isArray(schema['enum']) && !schema['enum'].includes(null)) schema['enum'] = [...schema['enum'], null];
    return;
  }
  // No type: the schema's other keywords (allOf, $ref, …) would refuse null; null becomes one alternative.
  const rest: Json = {};
  for (const [name, value] of Object.entries(schema)) {
    if (name.startsWith('x-') || name === 'description' || name === 'title') continue;
    rest[name] = value;
    delete schema[name];
  }
  if (Object.keys(rest).length > 0) schema['anyOf'] = [rest, { type: 'null' }];
}

/** Characters that keep a backslash before them in a Unicode regular expression (syntax characters, and `-` in a class). */
const SYNTAX = new Set([...'^$\\.*+?()[]{}|/']);

/**
 * A pattern that compiles with the `u` flag: unchanged when it already does; else with the backslash dropped from
 * identity escapes of non-syntax characters (`\-` outside a class, `\:`, `\'`, …), which mean the character itself
 * without `u`. Left as written when that does not help (then it is reported as not compiling).
 */
function unicodePattern(pattern: string): string {
  if (compiles(pattern)) return pattern;
  let out = '';
  let inClass = false;
  for (let i = 0; i < pattern.length; i++) {
    const char = pattern[i]!;
    if (char === '\\' && i + 1 < pattern.length) {
      const next = pattern[i + 1]!;
      const identity = !/[A-Za-z0-9]/.test(next) && !SYNTAX.has(next) && !(inClass && next === '-');
      out += identity ? next : char + next;
      i++;
      continue;
    }
    if (char === '[' && !inClass) inClass = true;
    else if (char === ']' && inClass) inClass = false;
    out += char;
  }
  return compiles(out) ? out : pattern;
}

function compiles(pattern: string): boolean {
  try {
    new RegExp(pattern, 'u');
    return true;
  } catch {
    return false;
  }
}
