import { GenerateError } from './errors.js';
import { canonicalPointer, pointerOf } from './json-pointer.js';
import { listOperations } from './operations.js';
import type { SpecDocument } from './load-spec.js';

export type SpecFlavour = 'swagger2' | 'openapi3';

/**
 * Checks one parsed spec before anything is generated from it, returning every problem found (empty = valid):
 * a supported version (Swagger 2.0, OpenAPI 3.0.x/3.1.x), every `$ref` local and resolvable, operationIds unique,
 * security requirements naming declared schemes.
 */
export function validateSpec(doc: SpecDocument, file: string): { flavour: SpecFlavour | undefined; problems: GenerateError[] } {
  const problems: GenerateError[] = [];
  const flavour = checkVersion(doc, file, problems);
  checkRefs(doc, file, problems);
  checkOperationIds(doc, file, problems);
  if (flavour !== undefined) checkSecurity(doc, file, flavour, problems);
  return { flavour, problems };
}

function checkVersion(doc: SpecDocument, file: string, problems: GenerateError[]): SpecFlavour | undefined {
  const supported = 'bankgate supports Swagger 2.0 and OpenAPI 3.0.x/3.1.x';
  if (doc['swagger'] !== undefined) {
    // `swagger: 2.0` unquoted is the number 2 under the YAML core schema; accept it, it is what authors meant.
    if (doc['swagger'] === '2.0' || doc['swagger'] === 2) return 'swagger2';
    problems.push(new GenerateError('SPEC_VERSION', `unsupported swagger version ${JSON.stringify(doc['swagger'])}; ${supported}`, { file, pointer: '#/swagger' }));
    return undefined;
  }
  if (doc['openapi'] !== undefined) {
    if (typeof doc['openapi'] === 'string' && /^3\.[01]\.\d+$/.test(doc['openapi'])) return 'openapi3';
    problems.push(new GenerateError('SPEC_VERSION', `unsupported openapi version ${JSON.stringify(doc['openapi'])}; ${supported}`, { file, pointer: '#/openapi' }));
    return undefined;
  }
  problems.push(new GenerateError('SPEC_VERSION', `no "openapi" or "swagger" version field: not an OpenAPI document? ${supported}`, { file, pointer: '#' }));
  return undefined;
}

function checkRefs(doc: SpecDocument, file: string, problems: GenerateError[]): void {
  const walk = (node: unknown, tokens: (string | number)[]): void => {
    if (Array.isArray(node)) {
      node.forEach((item, index) => walk(item, [...tokens, index]));
      return;
    }
    if (node === null || typeof node !== 'object') return;
    const ref = (node as { $ref?: unknown }).$ref;
    if (typeof ref === 'string') {
      const pointer = pointerOf(tokens);
      if (!ref.startsWith('#')) {
        // Only reached when bundling left it (bundle.ts resolves every file reference it can).
        problems.push(new GenerateError('REF_EXTERNAL', `$ref ${ref} is external and was not bundled`, { file, pointer }));
      } else if (canonicalPointer(doc, ref) === undefined) {
        problems.push(new GenerateError('REF_UNRESOLVED', `$ref ${ref} does not resolve`, { file, pointer }));
      }
    }
    for (const [key, value] of Object.entries(node)) {
      // Examples and extensions are free-form data: a `$ref` key there is content, not a reference.
      if (key === 'example' || key.startsWith('x-')) continue;
      walk(value, [...tokens, key]);
    }
  };
  walk(doc, []);
}

function checkOperationIds(doc: SpecDocument, file: string, problems: GenerateError[]): void {
  const firstSite = new Map<string, string>();
  for (const site of listOperations(doc)) {
    const id = site.operation['operationId'];
    if (typeof id !== 'string' || id.trim() === '') continue;
    const earlier = firstSite.get(id);
    if (earlier === undefined) firstSite.set(id, site.pointer);
    else problems.push(new GenerateError('OPERATION_ID_DUPLICATE', `duplicate operationId "${id}", also at ${earlier}`, { file, pointer: `${site.pointer}/operationId` }));
  }
}

function checkSecurity(doc: SpecDocument, file: string, flavour: SpecFlavour, problems: GenerateError[]): void {
  const schemes = (flavour === 'swagger2' ? doc['securityDefinitions'] : (doc['components'] as Record<string, unknown> | undefined)?.['securitySchemes']) ?? {};
  const check = (security: unknown, tokens: (string | number)[]): void => {
    if (!Array.isArray(security)) return;
    security.forEach((requirement, index) => {
      if (requirement === null || typeof requirement !== 'object') return;
      for (const name of Object.keys(requirement)) {
        if (typeof schemes !== 'object' || schemes === null || !Object.hasOwn(schemes, name)) {
          problems.push(new GenerateError('SECURITY_SCHEME_UNDEFINED', `security requirement names "${name}", which is not a declared security scheme`, { file, pointer: pointerOf([...tokens, index]) }));
        }
      }
    });
  };
  check(doc['security'], ['security']);
  for (const site of listOperations(doc)) check(site.operation['security'], ['paths', site.path, site.method, 'security']);
}
