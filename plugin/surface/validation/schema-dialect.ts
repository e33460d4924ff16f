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
 * - `type: file` (Swagger 2.0) dropped: a binary body is not JSON-validated.
 */
export function toValidatorDialect<T>(document: T): T {
  return rewrite(document, undefined) as T;
}

/** Keys whose values are maps from names to objects (schemas, parameters, …): the map itself is not a schema. */
const MAPS = new Set(['properties', 'patternProperties', 'definitions', 'schemas', 'paths', 'responses', 'content', 'headers', 'parameters', 'requestBodies', 'securitySchemes', 'links', 'callbacks', 'encoding', 'components', 'webhooks', '$defs']);

function rewrite(node: unknown, key: string | undefined): unknown {
  if (Array.isArray(node)) return node.map((item) => rewrite(item, undefined));
  if (node === null || typeof node !== 'object') return node;
  const out: Json = {};
  for (const [name, value] of Object.entries(node as Json)) {
    out[name] = DATA_KEYS.has(name) || name.startsWith('x-') ? value : rewrite(value, name);
  }
  if (key === undefined || !MAPS.has(key)) rewriteSchema(out);
  return out;
}

/** Rewrites one (possible) schema object in place; objects that are not schemas have none of these keys as such. */
function rewriteSchema(schema: Json): void {
  for (const [flag, bound] of [['exclusiveMinimum', 'minimum'], ['exclusiveMaximum', 'maximum']] as const) {
    if (typeof schema[flag] !== 'boolean') continue;
    if (schema[flag] === true && typeof schema[bound] === 'number') {
      schema[flag] = schema[bound];
      delete schema[bound];
    } else delete schema[flag];
  }
  const properties = schema['properties'];
  if (properties !== null && typeof properties === 'object' && !Array.isArray(properties)) {
    const required = Array.isArray(schema['required']) ? [...(schema['required'] as unknown[])] : [];
    for (const [name, property] of Object.entries(properties as Json)) {
      if (property === null || typeof property !== 'object' || typeof (property as Json)['required'] !== 'boolean') continue;
      if ((property as Json)['required'] === true && !required.includes(name)) required.push(name);
      delete (property as Json)['required'];
    }
    if (required.length > 0) schema['required'] = required;
  }
  // `required` that is not a list on a schema means nothing in any dialect (parameters, headers and request bodies,
  // whose `required` is a boolean, carry `in`, `schema` or `content`).
  if (typeof schema['required'] === 'boolean' && !('in' in schema) && !('schema' in schema) && !('content' in schema)) delete schema['required'];
  if (schema['type'] === 'file') delete schema['type'];
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
