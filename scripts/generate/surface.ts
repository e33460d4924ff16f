import { createHash } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { GENERATION_FILE, renderGenerationRecord, sha256File } from './incremental.js';

/**
 * `generated/surface/`: the merged OpenAPI 3.1 document of every generated bank API as the gateway mounts it
 * (`/{bank}/{api}{path}`, built by `plugin/surface/surface-document.ts`) and its openapi-typescript types, for a typed
 * openapi-fetch client of the gateway. Derived from the APIs' outputs, so it is regenerated when any API is, or when
 * the code that builds it changes; its own `.generation.json` records that key. `surface` is therefore not a bank name.
 */
export const SURFACE_DIR = 'surface';

export interface SurfaceApiDir {
  readonly bank: string;
  readonly api: string;
  /** The API's generated directory (holding `openapi.json`). */
  readonly dir: string;
  /** The API's generation key (`.generation.json`). */
  readonly key: string;
}

/** The surface's key: every API's key, and the code that merges and types them. */
export async function surfaceKey(toolRoot: string, apis: readonly SurfaceApiDir[]): Promise<string> {
  const hash = createHash('sha256');
  for (const { bank, api, key } of [...apis].sort((a, b) => `${a.bank}/${a.api}`.localeCompare(`${b.bank}/${b.api}`, 'en'))) hash.update(`${bank}/${api}=${key}\n`);
  for (const file of ['plugin/surface/surface-document.ts', 'plugin/surface/owned-headers.ts', 'plugin/surface/credential-params.ts', 'plugin/surface/connection-api.ts', 'plugin/surface/psu-headers.ts', 'scripts/generate/surface.ts']) {
    hash.update(`${file}=${await sha256File(join(toolRoot, file)).catch(() => 'absent')}\n`);
  }
  return hash.digest('hex');
}

/** Writes `openapi.json`, `schema.ts` and `.generation.json` of the surface into `outDir`. */
export async function writeSurface(outDir: string, apis: readonly SurfaceApiDir[], key: string): Promise<void> {
  const [{ buildSurfaceDocument }, { previousGeneration }, { renderSchemaTs }] = await Promise.all([
    import('../../plugin/surface/surface-document.js'),
    import('./pipeline.js'),
    import('./write-typescript.js'),
  ]);
  const entries = [];
  for (const { bank, api, dir } of apis) {
    const generation = await previousGeneration(dir, bank, api);
    if (!generation) continue;
    entries.push({ bank, api, title: generation.manifest.title, manifest: generation.manifest, document: generation.doc });
  }
  const doc = buildSurfaceDocument(entries);
  await mkdir(outDir, { recursive: true });
  await writeFile(join(outDir, 'openapi.json'), `${JSON.stringify(doc, null, 2)}\n`);
  await writeFile(join(outDir, 'schema.ts'), await renderSchemaTs(doc, 'generated/<bank>/<api>/openapi.json (the gateway surface)', `${SURFACE_DIR}/openapi.json`));
  await writeFile(join(outDir, GENERATION_FILE), await renderGenerationRecord(outDir, key, surfaceInputs(apis)));
}

/** What `.generation.json` records as the surface's inputs: each API's key, in the shape of an API's record. */
function surfaceInputs(apis: readonly SurfaceApiDir[]): Parameters<typeof renderGenerationRecord>[2] {
  return {
    spec: { source: 'generated/<bank>/<api>/openapi.json', sha256: createHash('sha256').update(apis.map((a) => `${a.bank}/${a.api}=${a.key}`).sort().join('\n')).digest('hex') },
    overlays: [],
    tools: { openapiGenerator: '', openapiTypescript: '', swagger2openapi: '', ajv: '', bankgate: '' },
  };
}
