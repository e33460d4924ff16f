import type { RouteManifest } from '../../manifest/types.js';
import { isCredentialParam } from '../credential-params.js';
import { isJsonMediaType, isMediaRange } from './media-type.js';

/** Where, inside a bank's OpenAPI document, the schemas of one operation are (JSON pointers). */
export interface OperationSchemaPointers {
  /** Parameter name (as in the spec) → pointer to its schema (and the schema as written), per location. */
  readonly params: Record<'path' | 'query' | 'header', { name: string; required: boolean; pointer: string; schema?: Json }[]>;
  /**
   * The body's declared media types (as spelled, ranges included) and, per media type whose body is JSON (a JSON type,
   * or a range such as `*\/*` that covers JSON), the pointer to its schema.
   */
  readonly body?: { readonly required: boolean; readonly mediaTypes: readonly string[]; readonly schemas: Readonly<Record<string, string>>; readonly binary: readonly string[] };
  /** Status (`200`, `4XX`, `default`) → pointer to the JSON response schema. */
  readonly responses: Record<string, string | undefined>;
}

type Json = Record<string, unknown>;

const escape = (token: string) => token.replace(/~/g, '~0').replace(/\//g, '~1');

/** Follows a local `$ref` chain, returning the target and its pointer. */
function deref(document: Json, value: unknown, pointer: string): { node: Json; pointer: string } {
  let node = value as Json;
  let at = pointer;
  for (let hops = 0; hops < 10 && node && typeof node.$ref === 'string'; hops++) {
    const ref = node.$ref as string;
    if (!ref.startsWith('#/')) break;
    at = ref.slice(1);
    node = ref
      .slice(2)
      .split('/')
      .map((t) => t.replace(/~1/g, '/').replace(/~0/g, '~'))
      .reduce<unknown>((n, t) => (n as Json | undefined)?.[t], document) as Json;
  }
  return { node, pointer: at };
}

/** The media type whose schema describes a JSON response: a JSON type first, else a range that may carry JSON. */
const jsonMediaType = (types: string[]) => types.find((t) => isJsonMediaType(t)) ?? types.find((t) => isMediaRange(t));

/** Reads an operation's parameter, body and response schema locations out of its (normalised) document. */
export function operationSchemaPointers(document: Json, route: RouteManifest): OperationSchemaPointers | undefined {
  const pathPointer = `/paths/${escape(route.path)}`;
  const pathItem = (document.paths as Json | undefined)?.[route.path] as Json | undefined;
  const operation = pathItem?.[route.method] as Json | undefined;
  if (!pathItem || !operation) return undefined;

  const params: OperationSchemaPointers['params'] = { path: [], query: [], header: [] };
  const seen = new Set<string>();
  const collect = (list: unknown, base: string) => {
    if (!Array.isArray(list)) return;
    list.forEach((raw, index) => {
      const { node, pointer } = deref(document, raw, `${base}/${index}`);
      if (!node || typeof node.name !== 'string' || !(node.in === 'path' || node.in === 'query' || node.in === 'header')) return;
      const key = `${node.in}:${node.name.toLowerCase()}`;
      if (seen.has(key) || !node.schema) return; // operation-level parameters override path-level ones
      seen.add(key);
      // Credentials' own parameters are the gateway's (bank-credentials.ts): never asked of the caller.
      if (isCredentialParam(route.credentials, node.in, node.name)) return;
      params[node.in].push({ name: node.name, required: node.required === true || node.in === 'path', pointer: `${pointer}/schema`, schema: node.schema as Json });
    });
  };
  collect(operation.parameters, `${pathPointer}/${route.method}/parameters`);
  collect(pathItem.parameters, `${pathPointer}/parameters`);

  let body: OperationSchemaPointers['body'];
  if (operation.requestBody) {
    const { node, pointer } = deref(document, operation.requestBody, `${pathPointer}/${route.method}/requestBody`);
    const content = (node?.content ?? {}) as Json;
    const types = Object.keys(content);
    const schemas: Record<string, string> = {};
    // `type: string, format: binary` (any bytes): nothing to validate, and nothing left unvalidated.
    const binary: string[] = [];
    for (const type of types) {
      const schema = (content[type] as Json | undefined)?.schema;
      const resolved = schema ? deref(document, schema, '').node : undefined;
      if (resolved && resolved.type === 'string' && (resolved.format === 'binary' || resolved.format === 'byte') && !isJsonMediaType(type)) binary.push(type);
      else if ((isJsonMediaType(type) || isMediaRange(type)) && schema) schemas[type] = `${pointer}/content/${escape(type)}/schema`;
    }
    body = { required: node?.required === true, mediaTypes: types, schemas, binary };
  }

  const responses: Record<string, string | undefined> = {};
  for (const [status, raw] of Object.entries((operation.responses ?? {}) as Json)) {
    const { node, pointer } = deref(document, raw, `${pathPointer}/${route.method}/responses/${escape(status)}`);
    const content = (node?.content ?? {}) as Json;
    const json = jsonMediaType(Object.keys(content));
    responses[status] = json && (content[json] as Json)?.schema ? `${pointer}/content/${escape(json)}/schema` : undefined;
  }
  return { params, body, responses };
}
