import { readdir } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { GenerateError } from './errors.js';

export interface DiscoveredSpec {
  readonly bank: string;
  readonly api: string;
  /** Absolute path. */
  readonly specPath: string;
}

const SPEC_EXTENSIONS = new Set(['.yaml', '.yml', '.json']);
/** Bank and API names become directories, identifiers and URL segments: keep them plain. */
export const NAME_PATTERN = /^[a-z0-9][a-z0-9_-]*$/;

/** `openapi/<bank>/<api>.(yaml|yml|json)`, sorted by bank then API. */
export async function discoverSpecs(openapiDir: string): Promise<DiscoveredSpec[]> {
  const specs: DiscoveredSpec[] = [];
  const problems: string[] = [];
  const entries = await readdir(openapiDir, { withFileTypes: true }).catch((error: NodeJS.ErrnoException) => {
    throw new GenerateError('USAGE', `cannot list the bank specs: ${error.code ?? error.message}`, { file: openapiDir });
  });
  const banks = entries.filter((entry) => entry.isDirectory()).map((entry) => entry.name).sort();
  for (const bank of banks) {
    const files = (await readdir(join(openapiDir, bank), { withFileTypes: true }))
      .filter((entry) => entry.isFile() && SPEC_EXTENSIONS.has(extname(entry.name).toLowerCase()))
      .map((entry) => entry.name)
      .sort();
    for (const name of files) {
      const api = name.slice(0, -extname(name).length);
      if (!NAME_PATTERN.test(bank) || !NAME_PATTERN.test(api)) {
        problems.push(`openapi/${bank}/${name}: bank and API names must match ${NAME_PATTERN.source}`);
        continue;
      }
      if (specs.some((spec) => spec.bank === bank && spec.api === api)) {
        problems.push(`openapi/${bank}/${name}: a second spec for ${bank}/${api}; keep one of ${api}.yaml, ${api}.yml, ${api}.json`);
        continue;
      }
      specs.push({ bank, api, specPath: join(openapiDir, bank, name) });
    }
  }
  if (problems.length > 0) throw new GenerateError('USAGE', problems.join('; '));
  return specs;
}
