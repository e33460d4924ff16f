import { readdir } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { GenerateError } from './errors.js';

export interface DiscoveredSpec {
  readonly bank: string;
  readonly api: string;
  /** Absolute path. */
  readonly specPath: string;
  /** Absolute path of `<api>.overlay.(yaml|yml|json)` beside the spec, when there is one. */
  readonly overlayPath?: string;
}

const SPEC_EXTENSIONS = new Set(['.yaml', '.yml', '.json']);
/** Bank and API names become directories, identifiers and URL segments: keep them plain. */
export const NAME_PATTERN = /^[a-z0-9][a-z0-9_-]*$/;

const OVERLAY_SUFFIX = /\.overlay\.(yaml|yml|json)$/i;
/** `openapi/overlays/` holds overlays for specs that do not live in this project (the shared real specs). */
const NOT_A_BANK = new Set(['overlays']);

/**
 * `openapi/<bank>/<api>.(yaml|yml|json)`, each with its `<api>.overlay.(yaml|yml|json)` if present, sorted by bank
 * then API. An overlay without its spec is an error: it would otherwise be silently ignored.
 */
export async function discoverSpecs(openapiDir: string): Promise<DiscoveredSpec[]> {
  const specs: DiscoveredSpec[] = [];
  const problems: string[] = [];
  const entries = await readdir(openapiDir, { withFileTypes: true }).catch((error: NodeJS.ErrnoException) => {
    throw new GenerateError('USAGE', `cannot list the bank specs: ${error.code ?? error.message}`, { file: openapiDir });
  });
  const banks = entries.filter((entry) => entry.isDirectory() && !NOT_A_BANK.has(entry.name)).map((entry) => entry.name).sort();
  for (const bank of banks) {
    const files = (await readdir(join(openapiDir, bank), { withFileTypes: true }))
      .filter((entry) => entry.isFile() && SPEC_EXTENSIONS.has(extname(entry.name).toLowerCase()))
      .map((entry) => entry.name)
      .sort();
    const overlays = new Map(files.filter((name) => OVERLAY_SUFFIX.test(name)).map((name) => [name.replace(OVERLAY_SUFFIX, ''), name]));
    for (const name of files) {
      if (OVERLAY_SUFFIX.test(name)) {
        const api = name.replace(OVERLAY_SUFFIX, '');
        if (!files.some((other) => !OVERLAY_SUFFIX.test(other) && other.slice(0, -extname(other).length) === api)) {
          problems.push(`openapi/${bank}/${name}: an overlay without a spec (expected openapi/${bank}/${api}.yaml, .yml or .json)`);
        }
        continue;
      }
      const api = name.slice(0, -extname(name).length);
      if (bank === 'surface') {
        problems.push(`openapi/${bank}/${name}: "surface" is reserved (generated/surface/ is the gateway's merged document); rename the bank`);
        continue;
      }
      if (!NAME_PATTERN.test(bank) || !NAME_PATTERN.test(api)) {
        problems.push(`openapi/${bank}/${name}: bank and API names must match ${NAME_PATTERN.source}`);
        continue;
      }
      if (specs.some((spec) => spec.bank === bank && spec.api === api)) {
        problems.push(`openapi/${bank}/${name}: a second spec for ${bank}/${api}; keep one of ${api}.yaml, ${api}.yml, ${api}.json`);
        continue;
      }
      const overlay = overlays.get(api);
      specs.push({ bank, api, specPath: join(openapiDir, bank, name), ...(overlay ? { overlayPath: join(openapiDir, bank, overlay) } : {}) });
    }
  }
  if (problems.length > 0) throw new GenerateError('USAGE', problems.join('; '));
  return specs;
}
