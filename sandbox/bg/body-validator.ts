/**
 * Request bodies checked against the bank's own spec (the normalised `generated/bg/xs2a/openapi.json`), as a bank's
 * API gateway does before its backend sees them. Schemas are compiled on first use, by JSON pointer into the document.
 */
import { Ajv, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import { BgError } from './errors.js';

const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv;
const DOCUMENT_ID = 'bg-xs2a';

export type BodyValidator = (pointer: string, body: unknown) => void;

/** Pointer-escaped path: `/v1/consents` → `~1v1~1consents`. */
export function pointerSegment(segment: string): string {
  return segment.replace(/~/g, '~0').replace(/\//g, '~1');
}

/** Returns a check that throws 400 FORMAT_ERROR naming the first violations and their place in the body. */
export function createBodyValidator(document: Record<string, unknown>): BodyValidator {
  const ajv = addFormats(new Ajv({ strict: false, allErrors: true, validateSchema: false, discriminator: false, logger: false }));
  ajv.addSchema(document, DOCUMENT_ID);
  const compiled = new Map<string, ValidateFunction>();
  return function validateBody(pointer, body) {
    let validate = compiled.get(pointer);
    if (!validate) {
      validate = ajv.compile({ $ref: `${DOCUMENT_ID}#${pointer}` });
      compiled.set(pointer, validate);
    }
    if (validate(body)) return;
    const errors = (validate.errors ?? []).filter((e) => e.keyword !== 'anyOf' && e.keyword !== 'oneOf').slice(0, 3);
    const first = errors[0];
    const text = errors.map((e) => `${e.instancePath || 'body'} ${e.message ?? 'is invalid'}`).join('; ');
    throw new BgError(400, 'FORMAT_ERROR', `the body does not match the spec: ${text || 'invalid'}`, {
      path: first?.instancePath ? first.instancePath.slice(1).replace(/\//g, '.') : undefined,
    });
  };
}
