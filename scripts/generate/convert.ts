import swagger2openapi from 'swagger2openapi';
import { GenerateError } from './errors.js';
import type { SpecDocument } from './load-spec.js';
import type { SpecFlavour } from './validate.js';

/**
 * Returns an OpenAPI 3 document for a validated spec: Swagger 2.0 is converted with swagger2openapi (which keeps
 * key order and turns `host` + `basePath` + `schemes` into `servers`); OpenAPI 3 input is copied as is. The input
 * is never mutated.
 */
export async function toOpenApi3(doc: SpecDocument, flavour: SpecFlavour, file: string): Promise<SpecDocument> {
  const copy = structuredClone(doc);
  if (flavour === 'openapi3') return copy;
  copy['swagger'] = '2.0';
  try {
    // patch: fix the small, common Swagger 2.0 slips instead of refusing the bank's file;
    // resolveInternal: false keeps `$ref`s as references, so the generators name the shared types.
    const { openapi } = await swagger2openapi.convertObj(copy, { patch: true, warnOnly: false, resolveInternal: false });
    return openapi;
  } catch (error) {
    const message = error instanceof Error ? error.message.split('\n')[0] : String(error);
    throw new GenerateError('CONVERT_FAILED', `Swagger 2.0 → OpenAPI 3.0 conversion failed: ${message}`, { file, cause: error });
  }
}
