import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { isAbsolute, join, relative, sep } from 'node:path';
import type { ApiManifest } from '../../plugin/manifest/types.js';
import { describeCollision, findRouteCollisions } from '../../plugin/surface/route-table.js';
import { diffApis, type ApiChanges, type Generation } from './changes.js';
import { bundleSpec, hasExternalRefs } from './bundle.js';
import { canonicaliseRefs } from './canonical-refs.js';
import { toOpenApi3 } from './convert.js';
import { fillOperationIds } from './derive-operation-id.js';
import { GenerateError, GenerateErrors, toProblems } from './errors.js';
import { GENERATION_FILE, renderGenerationRecord, type GenerationRecord } from './incremental.js';
import { pointerOf } from './json-pointer.js';
import { loadSpec, type SpecDocument } from './load-spec.js';
import { buildManifest } from './manifest.js';
import { listOperations } from './operations.js';
import { applyOverlays, loadOverlay } from './overlay.js';
import { dropRefSiblings } from './ref-siblings.js';
import { renderRoutesTs } from './render-routes.js';
import { validateSpec } from './validate.js';
import { validationCoverage, withCoverage } from './validation-coverage.js';
import { renderValidatorsDts, renderValidatorsJs } from './precompile-validators.js';
import { typeCheckSdks } from './sdk-typecheck.js';
import { generateSdks, modelNameMappings } from './write-sdk.js';
import { renderSchemaTs } from './write-typescript.js';

export interface SpecInput {
  /** Absolute path. */
  readonly path: string;
  /** As named in messages (relative to the working directory when that is shorter). */
  readonly file: string;
  /** As named in headers and `.generation.json`: relative to the project root, `/`-separated. */
  readonly source: string;
}

export interface SpecJob {
  readonly bank: string;
  readonly api: string;
  /** Absolute path of the bank's spec. */
  readonly specPath: string;
  /** The spec as named in messages (relative to the working directory when that is shorter). */
  readonly file: string;
  /** The spec as named in headers: relative to the repository root, `/`-separated, so output is machine-independent. */
  readonly source: string;
  /** Overlays applied to the spec, in order, before anything else reads it. */
  readonly overlays: readonly SpecInput[];
  /** Where this spec's files are written now (a temp dir) … */
  readonly outDir: string;
  /** … and where they will live, which decides the relative import of the manifest types. */
  readonly finalDir: string;
  /** The incremental key and inputs recorded in `.generation.json`. */
  readonly generation: { readonly key: string; readonly inputs: GenerationRecord['inputs'] };
}

export interface GenerateOptions {
  /** The bankgate checkout whose node_modules and openapitools.json run the generators. */
  readonly toolRoot: string;
  /** Absolute path of `plugin/manifest/types.js`, which every routes.ts imports (relatively), or the package name `bankgate`. */
  readonly typesModule: string;
  readonly jobs: readonly SpecJob[];
  /** Compare each API with the generation in its `finalDir` (the change report); off for `--check`. */
  readonly compare: boolean;
  readonly warn: (line: string) => void;
}

export interface GeneratedApi {
  readonly job: SpecJob;
  readonly manifest: ApiManifest;
  /** Against the previous generation in `finalDir`, when `compare` was on. */
  readonly changes?: ApiChanges;
}

interface Normalised {
  readonly job: SpecJob;
  readonly doc: SpecDocument;
  readonly manifest: ApiManifest;
  readonly openapiJson: string;
}

/**
 * The whole pipeline for a set of specs: apply overlays and validate every spec first (reporting all problems of all
 * specs), then convert, normalise, derive missing operationIds and write `openapi.json`; start the SDKs (one
 * generator run, a JVM of its own) and meanwhile render `schema.ts`, check validation coverage and render the
 * precompiled validators (`validators.js`); then type-check the new SDKs (one that does not compile is withheld, its reason in the manifest), write `routes.ts` and last
 * `.generation.json`. Writes only under each job's `outDir`; callers make the result visible atomically.
 */
export async function generate({ toolRoot, typesModule, jobs, compare, warn }: GenerateOptions): Promise<GeneratedApi[]> {
  const loaded: { job: SpecJob; doc: SpecDocument; flavour: 'swagger2' | 'openapi3' }[] = [];
  const problems: GenerateError[] = [];
  for (const job of jobs) {
    try {
      let doc = await loadSpec(job.specPath, job.file);
      // The multi-file source form of a spec is bundled first: overlays and everything after see one document.
      if (hasExternalRefs(doc)) doc = await bundleSpec(doc, job.specPath, job.file);
      if (job.overlays.length > 0) doc = applyOverlays(doc, await Promise.all(job.overlays.map((overlay) => loadOverlay(overlay.path, overlay.file))), warn);
      const result = validateSpec(doc, job.file);
      problems.push(...result.problems);
      if (result.problems.length === 0 && result.flavour !== undefined) loaded.push({ job, doc, flavour: result.flavour });
    } catch (error) {
      problems.push(...toProblems(error));
    }
  }
  if (problems.length > 0) throw new GenerateErrors(problems);

  const normalised: Normalised[] = [];
  for (const { job, doc, flavour } of loaded) {
    try {
      normalised.push(await normalise(job, doc, flavour, warn));
    } catch (error) {
      problems.push(...toProblems(error));
    }
  }
  if (problems.length > 0) throw new GenerateErrors(problems);

  for (const { job, openapiJson } of normalised) {
    await mkdir(job.outDir, { recursive: true });
    await writeFile(join(job.outDir, 'openapi.json'), openapiJson);
  }
  const sdkJobs = normalised.map(({ job, doc }) => ({ file: job.file, inputSpec: join(job.outDir, 'openapi.json'), outputDir: join(job.outDir, 'client'), modelNameMappings: modelNameMappings(doc) }));
  // The SDK generator runs in its own process while this one renders the types: two cores, one wait.
  const sdks = generateSdks(toolRoot, sdkJobs).then(
    () => undefined,
    (error: unknown) => error,
  );
  const rendered: { job: SpecJob; doc: SpecDocument; manifest: ApiManifest }[] = [];
  for (const { job, doc, manifest } of normalised) {
    try {
      await writeFile(join(job.outDir, 'schema.ts'), await renderSchemaTs(doc, job.source, job.file));
      const described = await describeCoverage(job, doc, manifest, warn);
      await writeFile(join(job.outDir, 'validators.js'), await renderValidatorsJs(described, doc, job.source));
      await writeFile(join(job.outDir, 'validators.d.ts'), renderValidatorsDts(job.source, typesImport(typesModule, job.finalDir)));
      rendered.push({ job, doc, manifest: described });
    } catch (error) {
      problems.push(...toProblems(error));
    }
  }
  const sdkFailure = await sdks;
  if (sdkFailure !== undefined) problems.push(...toProblems(sdkFailure));
  if (problems.length > 0) throw new GenerateErrors(problems);

  // generated/ never holds an SDK that does not type-check: one that does not is withheld, with its reason.
  const withheld = await typeCheckSdks(sdkJobs.map((sdk) => sdk.outputDir));
  const results: GeneratedApi[] = [];
  for (const [index, { job, doc, manifest: described }] of rendered.entries()) {
    const reason = withheld.get(sdkJobs[index]!.outputDir);
    let manifest = described;
    if (reason !== undefined) {
      await rm(sdkJobs[index]!.outputDir, { recursive: true, force: true });
      manifest = { ...manifest, sdkWithheld: reason };
      warn(`warning: ${job.file}: the typescript-fetch SDK does not compile and was not written (routes and types were): ${reason}`);
    }
    await writeFile(join(job.outDir, 'routes.ts'), renderRoutesTs(manifest, job.source, typesImport(typesModule, job.finalDir)));
    await writeFile(join(job.outDir, GENERATION_FILE), await renderGenerationRecord(job.outDir, job.generation.key, job.generation.inputs));
    const changes = compare ? diffApis(job.bank, job.api, await previousGeneration(job.finalDir, job.bank, job.api), { manifest, doc }) : undefined;
    results.push({ job, manifest, ...(changes ? { changes } : {}) });
  }
  return results;
}

/**
 * The generation committed in `dir` (its `openapi.json`, already normalised), re-read into a manifest with this
 * generator so that both sides are described the same way. Undefined when there is none (a new API).
 */
export async function previousGeneration(dir: string, bank: string, api: string): Promise<Generation | undefined> {
  const path = join(dir, 'openapi.json');
  if (!existsSync(path)) return undefined;
  const text = await readFile(path, 'utf8');
  let doc: SpecDocument;
  try {
    doc = JSON.parse(text) as SpecDocument;
  } catch {
    // A hand-mangled previous generation is no baseline: report everything as new rather than fail.
    return undefined;
  }
  fillOperationIds(listOperations(doc));
  const specSha256 = createHash('sha256').update(text).digest('hex');
  return { manifest: buildManifest({ bank, api, doc, specSha256, derived: new Set() }), doc };
}

async function normalise(job: SpecJob, source: SpecDocument, flavour: 'swagger2' | 'openapi3', warn: (line: string) => void): Promise<Normalised> {
  const doc = await toOpenApi3(source, flavour, job.file);
  canonicaliseRefs(doc);
  const siblings = dropRefSiblings(doc);
  for (const { pointer, dropped } of siblings.slice(0, 10)) {
    warn(`warning: ${job.file}: ${pointer}: ${dropped.join(', ')} beside $ref ignored (OpenAPI 3.0 ignores siblings of $ref)`);
  }
  if (siblings.length > 10) warn(`warning: ${job.file}: ${siblings.length - 10} more $ref(s) with ignored siblings`);
  const derived = fillOperationIds(listOperations(doc));
  for (const { pointer, operationId } of derived) {
    warn(`warning: ${job.file}: ${pointer}: no operationId; using the derived name "${operationId}"`);
  }
  const openapiJson = `${JSON.stringify(doc, null, 2)}\n`;
  const specSha256 = createHash('sha256').update(openapiJson).digest('hex');
  const manifest = buildManifest({ bank: job.bank, api: job.api, doc, specSha256, derived: new Set(derived.map((d) => d.pointer)) });
  const collisions = findRouteCollisions(manifest.routes);
  if (collisions.length > 0) {
    // Reported on each operation involved, so every colliding operation is named where it is declared.
    throw new GenerateErrors(
      collisions.flatMap((collision) =>
        [collision.a, collision.b].map(
          (route) => new GenerateError('ROUTE_COLLISION', describeCollision(collision), { file: job.file, pointer: pointerOf(['paths', route.path, route.method]) }),
        ),
      ),
    );
  }
  return { job, doc, manifest, openapiJson };
}

/** The manifest with what the gateway's validator cannot check (found by compiling every operation with it), and the per-operation warnings. */
async function describeCoverage(job: SpecJob, doc: SpecDocument, built: ApiManifest, warn: (line: string) => void): Promise<ApiManifest> {
  const manifest = withCoverage(built, await validationCoverage(built, doc));
  for (const route of manifest.routes) {
    const at = `warning: ${job.file}: ${pointerOf(['paths', route.path, route.method])}: ${route.operationId}`;
    if (route.unsupported !== undefined) warn(`${at}: ${route.unsupported}`);
    if (route.unvalidated !== undefined) warn(`${at}: not validated: ${route.unvalidated}`);
    if (route.authorizationUndeclared) warn(`${at}: declares an Authorization header but no security scheme; say which token it takes in hono.config.ts (apis.<api>.authorization) or with an overlay (x-bankgate-token)`);
  }
  return manifest;
}

/** `../../../plugin/manifest/types.js` from `generated/<bank>/<api>/`; computed, so `--out` anywhere works. */
function typesImport(typesModule: string, finalDir: string): string {
  if (!isAbsolute(typesModule)) return typesModule; // a package name ('bankgate'), as in a team's own repository
  const rel = relative(finalDir, typesModule).split(sep).join('/');
  return rel.startsWith('.') ? rel : `./${rel}`;
}
