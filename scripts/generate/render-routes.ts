import type { ApiManifest } from '../../plugin/manifest/types.js';
import { doNotEditHeader } from './header.js';

/**
 * Renders `routes.ts`: the manifest as a `const` literal checked against `ApiManifest`. `typesImport` is the
 * module specifier of `plugin/manifest/types.js` as seen from the file's final location.
 */
export function renderRoutesTs(manifest: ApiManifest, source: string, typesImport: string): string {
  return [
    doNotEditHeader(source),
    `import type { ApiManifest } from '${typesImport}';`,
    '',
    `export const manifest = ${JSON.stringify(manifest, null, 2)} as const satisfies ApiManifest;`,
    'export default manifest;',
    '',
  ].join('\n');
}

export interface IndexEntry {
  readonly bank: string;
  readonly api: string;
}

/**
 * Renders `generated/index.ts`: every API's manifest and normalised OpenAPI document, grouped by bank, sorted.
 * The documents are JSON imports (with the `type: 'json'` attribute, so plain Node ESM loads them as well as tsx,
 * vitest and tsc do); the gateway serves and merges them without reading files at run time.
 */
export function renderIndexTs(entries: readonly IndexEntry[]): string {
  const sorted = [...entries].sort((a, b) => a.bank.localeCompare(b.bank, 'en') || a.api.localeCompare(b.api, 'en'));
  const imports = sorted.flatMap((entry) => [
    `import ${identifier(entry)} from './${entry.bank}/${entry.api}/routes.js';`,
    `import ${identifier(entry)}Doc from './${entry.bank}/${entry.api}/openapi.json' with { type: 'json' };`,
  ]);
  const group = (suffix: string): string[] =>
    [...new Set(sorted.map((entry) => entry.bank))].map((bank) => {
      const apis = sorted.filter((entry) => entry.bank === bank).map((entry) => `${key(entry.api)}: ${identifier(entry)}${suffix}`);
      return `  ${key(bank)}: { ${apis.join(', ')} },`;
    });
  return [
    doNotEditHeader('openapi/<bank>/<api>.(yaml|yml|json)'),
    ...imports,
    '',
    'export const manifests = {',
    ...group(''),
    '} as const;',
    'export default manifests;',
    '',
    '/** The normalised OpenAPI 3 documents (`<bank>/<api>/openapi.json`), keyed like `manifests`. */',
    'export const documents = {',
    ...group('Doc'),
    '} as const;',
    '',
  ].join('\n');
}

/** `seb` + `ais` → `sebAis`; `my-bank` + `ais-v2` → `myBankAisV2`. */
function identifier({ bank, api }: IndexEntry): string {
  const words = `${bank}-${api}`.split(/[^A-Za-z0-9]+/).filter((word) => word !== '');
  const name = words.map((word, i) => (i === 0 ? word : word[0]!.toUpperCase() + word.slice(1))).join('');
  return /^[0-9]/.test(name) ? `_${name}` : name;
}

function key(name: string): string {
  return /^[A-Za-z_$][A-Za-z0-9_$]*$/.test(name) ? name : JSON.stringify(name);
}
