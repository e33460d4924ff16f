import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { dirname, extname, join, resolve } from 'node:path';
import { parse } from 'yaml';
import { NAME_PATTERN, NAME_RULE, suggestName } from '../../plugin/config/names.js';
import { GenerateError } from './errors.js';

export interface DiscoveredSpec {
  readonly bank: string;
  readonly api: string;
  /** Absolute path. */
  readonly specPath: string;
  /** Absolute path of `<api>.overlay.(yaml|yml|json)` beside the spec, when there is one. */
  readonly overlayPath?: string;
}

/**
 * `openapi/<bank>/<api>.source.yaml`: a spec kept outside this repository (a shared corpus, a vendored
 * standard), generated as if it were `openapi/<bank>/<api>.yaml`. `source` is relative to the pointer file;
 * `sha256` pins the bytes, so a changed upstream file is a visible edit here, not a silent regeneration.
 *
 *     source: ../../../shared/specs/berlin-group/psd2-api 1.3.9 2021-05-04v1.yaml
 *     sha256: d31433a8e26d63d2e1bf91ef0eb7fad371a6951408e2371acfebec2ed8dc24a9
 */
const SOURCE_SUFFIX = /\.source\.(yaml|yml|json)$/i;

const SPEC_EXTENSIONS = new Set(['.yaml', '.yml', '.json']);
/** Bank and API names: the config's own rule (plugin/config/names.ts), so what generates also configures. */
export { NAME_PATTERN } from '../../plugin/config/names.js';

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
    const apiOf = (name: string) => (SOURCE_SUFFIX.test(name) ? name.replace(SOURCE_SUFFIX, '') : name.slice(0, -extname(name).length));
    for (const name of files) {
      if (OVERLAY_SUFFIX.test(name)) {
        const api = name.replace(OVERLAY_SUFFIX, '');
        if (!files.some((other) => !OVERLAY_SUFFIX.test(other) && apiOf(other) === api)) {
          problems.push(`openapi/${bank}/${name}: an overlay without a spec (expected openapi/${bank}/${api}.yaml, .yml, .json or .source.yaml)`);
        }
        continue;
      }
      const api = apiOf(name);
      if (bank === 'surface') {
        problems.push(`openapi/${bank}/${name}: "surface" is reserved (generated/surface/ is the gateway's merged document); rename the bank`);
        continue;
      }
      if (!NAME_PATTERN.test(bank) || !NAME_PATTERN.test(api)) {
        const fix = !NAME_PATTERN.test(bank) ? `rename the folder to openapi/${suggestName(bank, 'bank')}/` : `rename the file to ${suggestName(api, 'api')}${name.slice(api.length)}`;
        problems.push(`openapi/${bank}/${name}: bank and API names must be ${NAME_RULE} (${NAME_PATTERN.source}), as hono.config.ts requires; ${fix}`);
        continue;
      }
      if (specs.some((spec) => spec.bank === bank && spec.api === api)) {
        problems.push(`openapi/${bank}/${name}: a second spec for ${bank}/${api}; keep one of ${api}.yaml, ${api}.yml, ${api}.json`);
        continue;
      }
      const overlay = overlays.get(api);
      let specPath = join(openapiDir, bank, name);
      if (SOURCE_SUFFIX.test(name)) {
        try {
          specPath = await followSource(specPath, `openapi/${bank}/${name}`);
        } catch (error) {
          problems.push((error as Error).message);
          continue;
        }
      }
      specs.push({ bank, api, specPath, ...(overlay ? { overlayPath: join(openapiDir, bank, overlay) } : {}) });
    }
  }
  if (problems.length > 0) throw new GenerateError('USAGE', problems.join('; '));
  return specs;
}

/** The spec a `.source.yaml` pointer names, after checking that its bytes are the pinned ones. */
async function followSource(pointerPath: string, shown: string): Promise<string> {
  let pointer: unknown;
  try {
    // failsafe: every scalar a string, so a digest that looks like a number (`1e5…`) stays as written.
    pointer = parse(await readFile(pointerPath, 'utf8'), { schema: 'failsafe' });
  } catch (error) {
    throw new Error(`${shown}: not readable YAML (${(error as Error).message.split('\n')[0]})`);
  }
  const { source, sha256 } = (pointer ?? {}) as { source?: unknown; sha256?: unknown };
  if (typeof source !== 'string' || source === '' || typeof sha256 !== 'string' || !/^[0-9a-f]{64}$/.test(sha256)) {
    throw new Error(`${shown}: must hold \`source: <path relative to this file>\` and \`sha256: <64 hex digits of that file>\``);
  }
  const specPath = resolve(dirname(pointerPath), source);
  let bytes: Buffer;
  try {
    bytes = await readFile(specPath);
  } catch (error) {
    throw new Error(`${shown}: source ${source} cannot be read (${(error as NodeJS.ErrnoException).code ?? 'error'}); it resolves to ${specPath}`);
  }
  const actual = createHash('sha256').update(bytes).digest('hex');
  if (actual !== sha256) {
    throw new Error(`${shown}: source ${source} has sha256 ${actual}, not the pinned ${sha256}; review the new file, then set sha256 to the new value`);
  }
  return specPath;
}
