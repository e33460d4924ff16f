import { createHash } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { toOpenApi3 } from './convert.js';
import { fillOperationIds } from './derive-operation-id.js';
import { GenerateError, GenerateErrors, toProblems } from './errors.js';
import { loadSpec, type SpecDocument } from './load-spec.js';
import { buildManifest } from './manifest.js';
import { listOperations } from './operations.js';
import { renderIndexTs, renderRoutesTs } from './render-routes.js';
import { validateSpec } from './validate.js';
import { generateSdks } from './write-sdk.js';
import { renderSchemaTs } from './write-typescript.js';

export interface SpecJob {
  readonly bank: string;
  readonly api: string;
  /** Absolute path of the bank's spec. */
  readonly specPath: string;
  /** The spec as named in messages (relative to the working directory when that is shorter). */
  readonly file: string;
  /** The spec as named in headers: relative to the repository root, `/`-separated, so output is machine-independent. */
  readonly source: string;
  /** Where this spec's files are written now (a temp dir) … */
  readonly outDir: string;
  /** … and where they will live, which decides the relative import of the manifest types. */
  readonly finalDir: string;
}

export interface GenerateOptions {
  /** The bankgate checkout whose node_modules and openapitools.json run the generators. */
  readonly toolRoot: string;
  /** Absolute path of `plugin/manifest/types.js`, which every routes.ts imports (relatively). */
  readonly typesModule: string;
  readonly jobs: readonly SpecJob[];
  /** When set, also write `index.ts` and `README.md` into this directory (the `generated/` layout). */
  readonly indexDir?: string;
  readonly warn: (line: string) => void;
}

interface Prepared {
  readonly job: SpecJob;
  readonly openapiJson: string;
  readonly schemaTs: string;
  readonly routesTs: string;
}

/**
 * The whole pipeline for a set of specs: validate every spec first (reporting all problems of all specs), then
 * convert, derive missing operationIds, render `openapi.json`, `schema.ts`, `routes.ts`, and finally the SDKs in one
 * generator run. Writes only under each job's `outDir` (and `indexDir`); callers make the result visible atomically.
 */
export async function generate({ toolRoot, typesModule, jobs, indexDir, warn }: GenerateOptions): Promise<void> {
  const loaded: { job: SpecJob; doc: SpecDocument; flavour: 'swagger2' | 'openapi3' }[] = [];
  const problems: GenerateError[] = [];
  for (const job of jobs) {
    try {
      const doc = await loadSpec(job.specPath, job.file);
      const result = validateSpec(doc, job.file);
      problems.push(...result.problems);
      if (result.problems.length === 0 && result.flavour !== undefined) loaded.push({ job, doc, flavour: result.flavour });
    } catch (error) {
      problems.push(...toProblems(error));
    }
  }
  if (problems.length > 0) throw new GenerateErrors(problems);

  const prepared: Prepared[] = [];
  for (const { job, doc, flavour } of loaded) {
    try {
      prepared.push(await prepare(typesModule, job, doc, flavour, warn));
    } catch (error) {
      problems.push(...toProblems(error));
    }
  }
  if (problems.length > 0) throw new GenerateErrors(problems);

  for (const { job, openapiJson, schemaTs, routesTs } of prepared) {
    await mkdir(job.outDir, { recursive: true });
    await writeFile(join(job.outDir, 'openapi.json'), openapiJson);
    await writeFile(join(job.outDir, 'schema.ts'), schemaTs);
    await writeFile(join(job.outDir, 'routes.ts'), routesTs);
  }
  await generateSdks(
    toolRoot,
    prepared.map(({ job }) => ({ file: job.file, inputSpec: join(job.outDir, 'openapi.json'), outputDir: join(job.outDir, 'client') })),
  );
  if (indexDir !== undefined) {
    await mkdir(indexDir, { recursive: true });
    await writeFile(join(indexDir, 'index.ts'), renderIndexTs(jobs));
    await writeFile(join(indexDir, 'README.md'), README);
  }
}

async function prepare(typesModule: string, job: SpecJob, source: SpecDocument, flavour: 'swagger2' | 'openapi3', warn: (line: string) => void): Promise<Prepared> {
  const doc = await toOpenApi3(source, flavour, job.file);
  const derived = fillOperationIds(listOperations(doc));
  for (const { pointer, operationId } of derived) {
    warn(`warning: ${job.file}: ${pointer}: no operationId; using the derived name "${operationId}"`);
  }
  const openapiJson = `${JSON.stringify(doc, null, 2)}\n`;
  const specSha256 = createHash('sha256').update(openapiJson).digest('hex');
  const manifest = buildManifest({ bank: job.bank, api: job.api, doc, specSha256, derived: new Set(derived.map((d) => d.pointer)) });
  const schemaTs = await renderSchemaTs(doc, job.source, job.file);
  const routesTs = renderRoutesTs(manifest, job.source, typesImport(typesModule, job.finalDir));
  return { job, openapiJson, schemaTs, routesTs };
}

/** `../../../plugin/manifest/types.js` from `generated/<bank>/<api>/`; computed, so `--out` anywhere works. */
function typesImport(typesModule: string, finalDir: string): string {
  const rel = relative(finalDir, typesModule).split(sep).join('/');
  return rel.startsWith('.') ? rel : `./${rel}`;
}

const README = `# generated/ — build output, do not edit

Everything here is written by \`npm run generate\` (\`scripts/generate/\`) from the bank specs in \`openapi/<bank>/<api>.(yaml|yml|json)\`:

- \`<bank>/<api>/openapi.json\`: the normalised OpenAPI 3.0 document (Swagger 2.0 converted, derived operationIds filled in)
- \`<bank>/<api>/schema.ts\`: openapi-typescript types (\`paths\`, \`operations\`, \`components\`)
- \`<bank>/<api>/client/\`: openapi-generator typescript-fetch SDK
- \`<bank>/<api>/routes.ts\`: the route manifest the gateway mounts (\`plugin/manifest/types.ts\`)
- \`index.ts\`: every manifest, by bank and API

Change a spec, then run \`npm run generate\`; \`npm run generate -- --check\` (part of \`npm test\`) fails when this directory is stale.
`;

