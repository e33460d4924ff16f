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

/** Renders `generated/index.ts`: every API's manifest, grouped by bank, sorted. */
export function renderIndexTs(entries: readonly IndexEntry[]): string {
  const sorted = [...entries].sort((a, b) => a.bank.localeCompare(b.bank, 'en') || a.api.localeCompare(b.api, 'en'));
  const imports = sorted.map((entry) => `import ${identifier(entry)} from './${entry.bank}/${entry.api}/routes.js';`);
  const banks = [...new Set(sorted.map((entry) => entry.bank))].map((bank) => {
    const apis = sorted.filter((entry) => entry.bank === bank).map((entry) => `${key(entry.api)}: ${identifier(entry)}`);
    return `  ${key(bank)}: { ${apis.join(', ')} },`;
  });
  return [
    doNotEditHeader('openapi/<bank>/<api>.(yaml|yml|json)'),
    ...imports,
    '',
    'export const manifests = {',
    ...banks,
    '} as const;',
    'export default manifests;',
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
