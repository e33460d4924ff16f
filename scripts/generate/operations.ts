import type { HttpMethod } from '../../plugin/manifest/types.js';
import { pointerOf } from './json-pointer.js';

/** The HTTP methods an OpenAPI path item can hold that the gateway routes (`trace` is never forwarded). */
export const HTTP_METHODS: readonly HttpMethod[] = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options'];

export interface OperationSite {
  readonly path: string;
  readonly method: HttpMethod;
  readonly pathItem: Record<string, unknown>;
  readonly operation: Record<string, unknown>;
  /** `#/paths/~1accounts/get`: identical in the Swagger 2.0 source and the converted document. */
  readonly pointer: string;
}

/** Every operation of a Swagger 2.0 or OpenAPI 3 document, in document order. */
export function listOperations(doc: Record<string, unknown>): OperationSite[] {
  const sites: OperationSite[] = [];
  const paths = doc['paths'];
  if (paths === null || typeof paths !== 'object') return sites;
  for (const [path, pathItem] of Object.entries(paths as Record<string, unknown>)) {
    if (pathItem === null || typeof pathItem !== 'object') continue;
    for (const [key, operation] of Object.entries(pathItem as Record<string, unknown>)) {
      const method = key.toLowerCase() as HttpMethod;
      if (!HTTP_METHODS.includes(method) || operation === null || typeof operation !== 'object') continue;
      sites.push({
        path,
        method,
        pathItem: pathItem as Record<string, unknown>,
        operation: operation as Record<string, unknown>,
        pointer: pointerOf(['paths', path, key]),
      });
    }
  }
  return sites;
}
