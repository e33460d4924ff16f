import openapiTS, { astToString } from 'openapi-typescript';
import { GenerateError } from './errors.js';
import { doNotEditHeader } from './header.js';
import type { SpecDocument } from './load-spec.js';

/**
 * Renders `schema.ts` (openapi-typescript: `paths`, `operations`, `components`) for a normalised OpenAPI 3
 * document. `source` names the spec in the header.
 */
export async function renderSchemaTs(doc: SpecDocument, source: string, file: string): Promise<string> {
  try {
    // openapi-typescript annotates the document it is given; hand it a copy.
    const ast = await openapiTS(structuredClone(doc) as unknown as Parameters<typeof openapiTS>[0], { silent: true });
    return `${doNotEditHeader(source)}\n${astToString(ast)}`;
  } catch (error) {
    const message = error instanceof Error ? error.message.split('\n')[0] : String(error);
    throw new GenerateError('TYPESCRIPT_FAILED', `openapi-typescript failed: ${message}`, { file, cause: error });
  }
}
