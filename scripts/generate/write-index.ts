import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { renderIndexTs, type IndexEntry } from './render-routes.js';

/** The files of `generated/` itself, beside the per-API directories. */
export function renderTopLevel(entries: readonly IndexEntry[]): Record<string, string> {
  return { 'index.ts': renderIndexTs(entries), 'README.md': README };
}

/** Writes each file whose content differs; an unchanged file keeps its mtime. Returns the names written. */
export async function writeIfChanged(dir: string, files: Record<string, string>): Promise<string[]> {
  const written: string[] = [];
  for (const [name, content] of Object.entries(files)) {
    const current = await readFile(join(dir, name), 'utf8').catch(() => undefined);
    if (current === content) continue;
    await writeFile(join(dir, name), content);
    written.push(name);
  }
  return written;
}

const README = `# generated/ — build output, do not edit

Everything here is written by \`npm run generate\` (\`scripts/generate/\`) from the bank specs in \`openapi/<bank>/<api>.(yaml|yml|json)\`,
each with its overlay \`openapi/<bank>/<api>.overlay.yaml\` applied first when there is one:

- \`<bank>/<api>/openapi.json\`: the normalised OpenAPI 3.0 document (overlays applied, Swagger 2.0 converted, derived operationIds filled in)
- \`<bank>/<api>/schema.ts\`: openapi-typescript types (\`paths\`, \`operations\`, \`components\`)
- \`<bank>/<api>/client/\`: openapi-generator typescript-fetch SDK
- \`<bank>/<api>/routes.ts\`: the route manifest the gateway mounts (\`plugin/manifest/types.ts\`)
- \`<bank>/<api>/validators.js\` (and its \`validators.d.ts\`): Ajv standalone code of every schema the gateway validates the API with, compiled here for runtimes that cannot compile code (Cloudflare Workers): \`apis.<api>.validators\` in the config
- \`<bank>/<api>/.generation.json\`: what this output was generated from (hashes of spec, overlays, generator versions) and the hash of each file; an API is regenerated only when these change
- \`surface/openapi.json\`, \`surface/schema.ts\`: the merged OpenAPI 3.1 document of every API as the gateway mounts it (\`/{bank}/{api}{path}\`, built by \`plugin/surface/surface-document.ts\`) and its openapi-typescript types, for a typed client of the gateway
- \`index.ts\`: every manifest (\`manifests\`) and normalised document (\`documents\`), by bank and API
- \`CHANGES.md\`, \`changes.json\`: what the last generation changed compared with the one before it (operations added, removed, changed; breaking or not); not compared by \`--check\`

Change a spec, then run \`npm run generate\`; \`npm run generate -- --check\` (part of \`npm test\`) fails when this directory is stale.
`;
