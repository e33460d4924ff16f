/**
 * Request bodies checked against the spec, as a bank's API layer does: each operation's JSON request body schema
 * from the normalised 4.0 documents (`generated/ukob/<api>/openapi.json`), compiled once with ajv. A body that does
 * not match is a 400 `U010` (UK.OBIE.Resource.InvalidFormat) naming the first field at fault.
 */
import { Ajv, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import type { RouteManifest } from '../../plugin/manifest/types.js';
import { OB_ERROR, obError } from './errors.js';

const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv;

type Json = Record<string, unknown>;
/** A request body that passed its operation's schema. */
export type CheckedBody = Json;

export type BodyResult = { readonly ok: true; readonly body: CheckedBody } | { readonly ok: false; readonly response: Response };

const escapePointer = (token: string) => token.replace(/~/g, '~0').replace(/\//g, '~1');

function resolve(document: Json, ref: string): Json | undefined {
  return ref
    .slice(2)
    .split('/')
    .map((t) => t.replace(/~1/g, '/').replace(/~0/g, '~'))
    .reduce<unknown>((node, token) => (node as Json | undefined)?.[token], document) as Json | undefined;
}

/** The JSON pointer of an operation's JSON request body schema inside its document, or undefined. */
function bodyPointer(document: Json, route: RouteManifest): string | undefined {
  const operation = ((document.paths as Json | undefined)?.[route.path] as Json | undefined)?.[route.method] as Json | undefined;
  let requestBody = operation?.requestBody as Json | undefined;
  let pointer = `/paths/${escapePointer(route.path)}/${route.method}/requestBody`;
  if (typeof requestBody?.$ref === 'string') {
    pointer = requestBody.$ref.slice(1);
    requestBody = resolve(document, requestBody.$ref);
  }
  const content = (requestBody?.content ?? {}) as Json;
  const json = Object.keys(content).find((type) => /^application\/json/i.test(type));
  return json && (content[json] as Json).schema ? `${pointer}/content/${escapePointer(json)}/schema` : undefined;
}

/** Validators for the request bodies of one bank's APIs, keyed by API name. */
export function createBodySchemas(documents: Readonly<Record<string, unknown>>) {
  const ajv = addFormats(new Ajv({ strict: false, allErrors: false, validateSchema: false, logger: false }));
  for (const [api, document] of Object.entries(documents)) ajv.addSchema(document as Json, `urn:ukob:${api}`);
  const compiled = new Map<string, ValidateFunction | null>();

  function validator(api: string, route: RouteManifest): ValidateFunction | undefined {
    const key = `${api} ${route.operationId}`;
    if (!compiled.has(key)) {
      const pointer = bodyPointer(documents[api] as Json, route);
      compiled.set(key, pointer ? ajv.compile({ $ref: `urn:ukob:${api}#${pointer}` }) : null);
    }
    return compiled.get(key) ?? undefined;
  }

  return {
    /** Parses and validates a JSON request body; the refusal is a ready OB error answer. */
    check(api: string, route: RouteManifest, raw: Uint8Array): BodyResult {
      let body: unknown;
      try {
        body = JSON.parse(new TextDecoder().decode(raw));
      } catch {
        return { ok: false, response: obError(400, OB_ERROR.invalidFormat, 'the request body is not JSON') };
      }
      if (typeof body !== 'object' || body === null || Array.isArray(body)) {
        return { ok: false, response: obError(400, OB_ERROR.invalidFormat, 'the request body must be a JSON object') };
      }
      const validate = validator(api, route);
      if (validate && !validate(body)) {
        const error = validate.errors![0]!;
        const at = [...error.instancePath.split('/').filter(Boolean), ...(error.keyword === 'required' ? [String(error.params.missingProperty)] : [])];
        const extra = error.keyword === 'additionalProperties' ? ` (${String(error.params.additionalProperty)})` : error.keyword === 'enum' ? ` (${(error.params.allowedValues as unknown[]).join(', ')})` : '';
        const path = at.join('.') || undefined;
        return { ok: false, response: obError(400, OB_ERROR.invalidFormat, `${path ?? 'the body'} ${error.message ?? 'is invalid'}${extra}`, path) };
      }
      return { ok: true, body: body as Json };
    },
  };
}

export type BodySchemas = ReturnType<typeof createBodySchemas>;
