import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { GenerateError } from './errors.js';

const run = promisify(execFile);

export interface SdkJob {
  /** The spec as named in messages. */
  readonly file: string;
  /** Absolute path of the normalised openapi.json to generate from. */
  readonly inputSpec: string;
  /** Absolute path of the `client/` directory to create. */
  readonly outputDir: string;
  /** Schema name → model name, for names the SDK cannot use as they are (`modelNameMappings`). */
  readonly modelNameMappings?: Readonly<Record<string, string>>;
}

/**
 * What typescript-fetch's `runtime.ts` exports: `index.ts` re-exports it beside the models, so a model of the same
 * name (a bank's `ResponseError` schema) is an ambiguous export that does not compile.
 */
const RUNTIME_EXPORTS = new Set([
  'BASE_PATH', 'ConfigurationParameters', 'Configuration', 'DefaultConfig', 'BaseAPI', 'ResponseError', 'FetchError', 'RequiredError',
  'COLLECTION_FORMATS', 'FetchAPI', 'Json', 'HTTPMethod', 'HTTPHeaders', 'HTTPQuery', 'HTTPBody', 'HTTPRequestInit', 'ModelPropertyNaming',
  'InitOverrideFunction', 'FetchParams', 'RequestOpts', 'Consume', 'RequestContext', 'ResponseContext', 'ErrorContext', 'Middleware',
  'ApiResponse', 'ResponseTransformer', 'JSONApiResponse', 'VoidApiResponse', 'BlobApiResponse', 'TextApiResponse',
]);

/**
 * Model names for the schemas whose own names the typescript-fetch SDK cannot use: a name of the SDK runtime
 * (`ResponseError` → `ResponseErrorModel`), or one with characters the generator copies into identifiers and file
 * names (`Weird Name!` → `WeirdName`). Each mapped name is unique among the document's schema names.
 */
export function modelNameMappings(doc: Record<string, unknown>): Record<string, string> {
  const names = Object.keys(((doc['components'] as Record<string, unknown> | undefined)?.['schemas'] ?? {}) as Record<string, unknown>);
  const taken = new Set(names.map((name) => name.toLowerCase()));
  const mappings: Record<string, string> = {};
  for (const name of names) {
    let base: string | undefined;
    if (RUNTIME_EXPORTS.has(name)) base = `${name}Model`;
    else if (/[^A-Za-z0-9_.-]/.test(name)) {
      const words = name.split(/[^A-Za-z0-9]+/).filter((word) => word !== '');
      const joined = words.map((word) => word[0]!.toUpperCase() + word.slice(1)).join('') || 'Model';
      base = /^[0-9]/.test(joined) ? `Model${joined}` : joined;
    }
    if (base === undefined) continue;
    let mapped = base;
    for (let n = 2; taken.has(mapped.toLowerCase()); n++) mapped = `${base}${n}`;
    taken.add(mapped.toLowerCase());
    mappings[name] = mapped;
  }
  return mappings;
}

/** typescript-fetch options: ES6 output, property names exactly as the bank spells them (`_links`, `account-id`). */
const ADDITIONAL_PROPERTIES = {
  supportsES6: true,
  modelPropertyNaming: 'original',
  hideGenerationTimestamp: true,
};

/**
 * Generates the typescript-fetch SDK of every job in one JVM (`openapi-generator-cli batch`), through the npm
 * wrapper pinned by `openapitools.json`. The generator's own spec validator is skipped: bankgate has validated the
 * document already, and the generator's validator rejects quirks real bank specs have and the SDK copes with.
 */
export async function generateSdks(repoRoot: string, jobs: readonly SdkJob[]): Promise<void> {
  if (jobs.length === 0) return;
  const jar = generatorJar(repoRoot);
  if (!existsSync(jar)) {
    throw new GenerateError('SDK_FAILED', `openapi-generator JAR missing at ${jar}; install it with: node scripts/install-generator-jar.mjs`);
  }
  const configDir = await mkdtemp(join(tmpdir(), 'bankgate-sdk-'));
  try {
    const configs: string[] = [];
    for (const [index, job] of jobs.entries()) {
      const config = join(configDir, `${index}.json`);
      const settings = {
        generatorName: 'typescript-fetch',
        inputSpec: job.inputSpec,
        outputDir: job.outputDir,
        validateSpec: false,
        additionalProperties: ADDITIONAL_PROPERTIES,
        ...(job.modelNameMappings && Object.keys(job.modelNameMappings).length > 0 ? { modelNameMappings: job.modelNameMappings } : {}),
        // Markdown docs per model add hundreds of files nobody reads next to typed code.
        // skipFormModel: multipart bodies (Berlin Group periodic pain.001) reference their schema's model, which the
        // generator otherwise leaves out as "only used in form parameters", breaking the import.
        globalProperties: { apiDocs: 'false', modelDocs: 'false', skipFormModel: 'false' },
        // An operation with several tags is generated into several API classes whose request types then clash in
        // apis/index.ts (Berlin Group: AIS + Common Services). One tag per operation gives one class per operation.
        openapiNormalizer: { KEEP_ONLY_FIRST_TAG_IN_OPERATION: 'true' },
      };
      await writeFile(config, `${JSON.stringify(settings, null, 2)}\n`);
      configs.push(config);
    }
    await runBatch(repoRoot, jar, configs, jobs);
    for (const job of jobs) await patchRuntime(job);
  } finally {
    await rm(configDir, { recursive: true, force: true });
  }
}

/** The JAR the wrapper runs: `<storageDir>/<version>.jar` from openapitools.json, or `BANKGATE_GENERATOR_JAR` (the `bankgate` CLI's cache). */
function generatorJar(repoRoot: string): string {
  if (process.env['BANKGATE_GENERATOR_JAR']) return resolve(process.env['BANKGATE_GENERATOR_JAR']);
  const config = JSON.parse(readFileSync(join(repoRoot, 'openapitools.json'), 'utf8')) as { 'generator-cli': { version: string; storageDir?: string } };
  const storageDir = resolve(repoRoot, config['generator-cli'].storageDir ?? 'node_modules/@openapitools/openapi-generator-cli/versions');
  return join(storageDir, `${config['generator-cli'].version}.jar`);
}


async function runBatch(repoRoot: string, jar: string, configs: readonly string[], jobs: readonly SdkJob[]): Promise<void> {
  const args = ['batch', '--fail-fast', '--', ...configs];
  // The wrapper joins its arguments into a shell command line unquoted; use it only when that is safe.
  const wrapper = join(repoRoot, 'node_modules', '@openapitools', 'openapi-generator-cli', 'main.js');
  const viaWrapper = !process.env['BANKGATE_GENERATOR_JAR'] && existsSync(wrapper) && configs.every((config) => /^[\w./-]+$/.test(config)) && /^[\w./-]+$/.test(jar);
  const [command, commandArgs] = viaWrapper ? [process.execPath, [wrapper, ...args]] : ['java', ['-jar', jar, ...args]];
  try {
    // PWD: the wrapper finds openapitools.json through $PWD, not through its working directory.
    await run(command, commandArgs, { cwd: repoRoot, env: { ...process.env, PWD: repoRoot }, maxBuffer: 64 * 1024 * 1024 });
  } catch (error) {
    const output = `${(error as { stdout?: string }).stdout ?? ''}\n${(error as { stderr?: string }).stderr ?? ''}`;
    const reasons = output
      .split('\n')
      .map((line) => line.trim())
      .filter((line) => /(exception|error|failed)/i.test(line) && !/^#/.test(line))
      .slice(0, 5);
    const which = jobs.filter((job) => !existsSync(join(job.outputDir, 'runtime.ts'))).map((job) => job.file);
    const files = which.length > 0 ? which : jobs.map((job) => job.file);
    throw new GenerateError('SDK_FAILED', `openapi-generator typescript-fetch failed: ${reasons.join(' | ') || 'no reason given'}`, { file: files.join(', '), cause: error });
  }
}

/**
 * typescript-fetch's `FetchError` declares `constructor(public cause: Error)`, which shadows `Error.cause` without
 * `override` and fails `noImplicitOverride` (the repo's tsconfig). Patch that one declaration; if a later generator
 * fixes it, the pattern is simply absent.
 */
async function patchRuntime(job: SdkJob): Promise<void> {
  const path = join(job.outputDir, 'runtime.ts');
  const text = await readFile(path, 'utf8');
  const patched = text.replace('constructor(public cause: Error, msg?: string)', 'constructor(public override cause: Error, msg?: string)');
  if (patched !== text) await writeFile(path, patched);
}
