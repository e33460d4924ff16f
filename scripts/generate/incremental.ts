import { createHash } from 'node:crypto';
import { readFile, readdir } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';
import { listFiles } from './check.js';
import { referencedFiles } from './spec-files.js';

/**
 * Incremental generation. Each API's output holds `.generation.json`: the key it was generated for (a hash of the
 * spec, its overlays and every generator's version, bankgate's own generator code included) and the hash of every
 * file written. An API is up to date when the key matches AND its files still hash as recorded, so a hand edit is
 * regenerated away rather than trusted. Kept free of heavy imports: an unchanged tree must cost almost nothing.
 */
export const GENERATION_FILE = '.generation.json';

export interface GenerationRecord {
  readonly generator: 'bankgate';
  readonly key: string;
  readonly inputs: {
    readonly spec: { readonly source: string; readonly sha256: string };
    /** A multi-file spec's other files (relative to the spec's directory), each an input like the spec itself. */
    readonly specFiles?: readonly { readonly source: string; readonly sha256: string }[];
    readonly overlays: readonly { readonly source: string; readonly sha256: string }[];
    readonly tools: Tools;
  };
  /** Every other file of the API's output (`/`-separated, sorted) → SHA-256. */
  readonly files: Readonly<Record<string, string>>;
}

export interface Tools {
  readonly openapiGenerator: string;
  readonly openapiTypescript: string;
  readonly swagger2openapi: string;
  /** Ajv, whose standalone code `validators.js` is. */
  readonly ajv: string;
  /** SHA-256 over bankgate's generator code (scripts/generate and what it renders with). */
  readonly bankgate: string;
}

export interface InputFile {
  /** Absolute path. */
  readonly path: string;
  /** As recorded: relative to the project root, `/`-separated. */
  readonly source: string;
}

/** Plugin files whose code decides generated output (beside scripts/generate/ itself). */
const GENERATION_PLUGIN_FILES = [
  'plugin/manifest/types.ts',
  'plugin/surface/route-table.ts',
  'plugin/config/names.ts',
  'plugin/surface/owned-headers.ts',
  'plugin/surface/credential-params.ts',
  'plugin/surface/validation/spec-validator.ts',
  'plugin/surface/validation/operation-schemas.ts',
  'plugin/surface/validation/schema-dialect.ts',
  'plugin/surface/validation/media-type.ts',
];

let toolsCache: Promise<Tools> | undefined;

/** The versions that decide the output, read from the tool checkout (memoised per process). */
export function toolVersions(toolRoot: string): Promise<Tools> {
  toolsCache ??= (async () => {
    const version = async (pkg: string) => (JSON.parse(await readFile(installedPackageJson(toolRoot, pkg), 'utf8')) as { version: string }).version;
    const generatorConfig = JSON.parse(await readFile(join(toolRoot, 'openapitools.json'), 'utf8')) as { 'generator-cli': { version: string } };
    return {
      openapiGenerator: generatorConfig['generator-cli'].version,
      openapiTypescript: await version('openapi-typescript'),
      swagger2openapi: await version('swagger2openapi'),
      ajv: await version('ajv'),
      bankgate: await codeHash(toolRoot),
    };
  })();
  return toolsCache;
}

/** `<dir>/node_modules/<pkg>/package.json` in the nearest directory up from `toolRoot` (node_modules/bankgate's peers sit beside it). */
function installedPackageJson(toolRoot: string, pkg: string): string {
  for (let dir = toolRoot; ; dir = dirname(dir)) {
    const path = join(dir, 'node_modules', pkg, 'package.json');
    if (existsSync(path) || dirname(dir) === dir) return path;
  }
}

/** Hash of the generator's sources; line endings normalised, so a Windows checkout hashes the same. */
async function codeHash(toolRoot: string): Promise<string> {
  const dir = join(toolRoot, 'scripts', 'generate');
  const files = (await readdir(dir)).filter((name) => name.endsWith('.ts')).sort().map((name) => join(dir, name));
  // The plugin code generation runs: the manifest's shape, route collisions, names, the validator's schema dialect.
  for (const shared of GENERATION_PLUGIN_FILES) files.push(join(toolRoot, ...shared.split('/')));
  const hash = createHash('sha256');
  for (const file of files) {
    hash.update(`${file.slice(toolRoot.length).replaceAll('\\', '/')}\0`);
    hash.update((await readFile(file, 'utf8')).replaceAll('\r\n', '\n'));
  }
  return hash.digest('hex');
}

export async function sha256File(path: string): Promise<string> {
  return createHash('sha256').update(await readFile(path)).digest('hex');
}

/** The inputs and key of one API's generation. */
export async function generationInputs(spec: InputFile, overlays: readonly InputFile[], tools: Tools): Promise<{ key: string; inputs: GenerationRecord['inputs'] }> {
  const others = await referencedFiles(spec.path);
  const inputs = {
    spec: { source: spec.source, sha256: await sha256File(spec.path) },
    ...(others.length > 0
      ? { specFiles: await Promise.all(others.map(async (path) => ({ source: relative(dirname(spec.path), path).split(sep).join('/'), sha256: await sha256File(path) }))) }
      : {}),
    overlays: await Promise.all(overlays.map(async (overlay) => ({ source: overlay.source, sha256: await sha256File(overlay.path) }))),
    tools,
  };
  return { key: createHash('sha256').update(JSON.stringify(inputs)).digest('hex'), inputs };
}

/**
 * True when `dir` holds a generation for `key` whose files are all present, unmodified and nothing else. Files
 * `ignored` (the change report) are not part of the generation.
 */
export async function isUpToDate(dir: string, key: string, ignored: ReadonlySet<string> = new Set()): Promise<boolean> {
  let record: GenerationRecord;
  try {
    record = JSON.parse(await readFile(join(dir, GENERATION_FILE), 'utf8')) as GenerationRecord;
  } catch {
    return false;
  }
  if (record.key !== key || typeof record.files !== 'object' || record.files === null) return false;
  const present = (await listFiles(dir)).filter((path) => path !== GENERATION_FILE && !ignored.has(path));
  const expected = Object.keys(record.files);
  if (present.length !== expected.length || present.some((path) => !Object.hasOwn(record.files, path))) return false;
  for (const path of present) if ((await sha256File(join(dir, path))) !== record.files[path]) return false;
  return true;
}

/** Writes nothing: returns the `.generation.json` text for the files now in `dir`. */
export async function renderGenerationRecord(dir: string, key: string, inputs: GenerationRecord['inputs'], ignored: ReadonlySet<string> = new Set()): Promise<string> {
  const files: Record<string, string> = {};
  for (const path of await listFiles(dir)) {
    if (path === GENERATION_FILE || ignored.has(path)) continue;
    files[path] = await sha256File(join(dir, path));
  }
  const record: GenerationRecord = { generator: 'bankgate', key, inputs, files };
  return `${JSON.stringify(record, null, 2)}\n`;
}
