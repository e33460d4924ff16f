import { isAbsolute, relative, sep } from 'node:path';
import { GenerateError, GenerateErrors } from './errors.js';
import type { SpecDocument } from './load-spec.js';

/** True when a document refers to other files (`$ref: paths/x.yaml`): the multi-file source form of a spec. */
export function hasExternalRefs(doc: unknown): boolean {
  const walk = (node: unknown): boolean => {
    if (Array.isArray(node)) return node.some(walk);
    if (node === null || typeof node !== 'object') return false;
    const ref = (node as { $ref?: unknown }).$ref;
    if (typeof ref === 'string' && !ref.startsWith('#')) return true;
    // Examples and extensions are free-form data: a `$ref` key there is content, not a reference.
    return Object.entries(node).some(([key, value]) => key !== 'example' && key !== 'examples' && !key.startsWith('x-') && walk(value));
  };
  return walk(doc);
}

/**
 * Bundles a multi-file spec into one document with @redocly/openapi-core (the bundler openapi-typescript itself is
 * built on): every external `$ref` becomes a component named after its file (`schemas/Account.yaml` →
 * `#/components/schemas/Account`), as the standards' own published bundles do. The entry is the document bankgate
 * parsed (YAML 1.2 core schema); referenced files are read from disk beside it. A `$ref` that does not resolve fails
 * with the file and pointer where it is written.
 */
export async function bundleSpec(doc: SpecDocument, path: string, file: string): Promise<SpecDocument> {
  const { bundle, createConfig, BaseResolver, Source, isAbsoluteUrl } = await import('@redocly/openapi-core');
  const config = await createConfig({ extends: [] });
  /** Files on disk only: generation must not depend on what a network answers. */
  class FilesOnly extends BaseResolver {
    override async loadExternalRef(absoluteRef: string) {
      if (isAbsoluteUrl(absoluteRef)) throw new Error(`remote $ref ${absoluteRef}: bankgate generates from files on disk only; download it beside the spec and refer to it by a relative path`);
      return super.loadExternalRef(absoluteRef);
    }
  }
  const document = { source: new Source(path, JSON.stringify(doc), 'application/json'), parsed: structuredClone(doc) };
  let result;
  try {
    result = await bundle({ doc: document, config, dereference: false, removeUnusedComponents: false, externalRefResolver: new FilesOnly(config.resolve) });
  } catch (error) {
    throw new GenerateError('REF_UNRESOLVED', `bundling the referenced files failed: ${(error as Error).message.split('\n')[0]}`, { file, cause: error });
  }
  const problems = result.problems.filter((problem) => problem.severity === 'error');
  if (problems.length > 0) {
    throw new GenerateErrors(problems.map((problem) => {
      const where = problem.location[0];
      const source = where?.source.absoluteRef;
      const shown = source === undefined || source === path ? file : shownPath(source);
      return new GenerateError('REF_UNRESOLVED', problem.message, { file: shown, pointer: where?.pointer });
    }));
  }
  return result.bundle.parsed as SpecDocument;
}

/** A referenced file as the user would type it: relative to the working directory unless that climbs far (as run.ts names files). */
function shownPath(path: string): string {
  const rel = relative(process.cwd(), path);
  return rel.startsWith(`..${sep}..`) || isAbsolute(rel) ? path : rel.split(sep).join('/');
}
