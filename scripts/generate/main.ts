#!/usr/bin/env tsx
/**
 * `npm run generate`: bank specs → `generated/<bank>/<api>/{openapi.json,schema.ts,client/,routes.ts}` + `index.ts`.
 *
 *   npm run generate                         all of openapi/<bank>/<api>.(yaml|yml|json) → generated/ (atomically)
 *   npm run generate -- --check              regenerate into a temp dir; fail listing every difference with generated/
 *   npm run generate -- --spec FILE --bank NAME --api NAME --out DIR
 *                                            one spec → DIR (same layout as generated/<bank>/<api>/)
 *   --root DIR                               use DIR/openapi and DIR/generated instead of this checkout's (tests)
 *
 * Exit codes: 0 success, 1 a spec or the check failed (one line per problem on stderr), 2 bad invocation.
 */
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { compareTrees } from './check.js';
import { discoverSpecs, NAME_PATTERN } from './discover.js';
import { GenerateError, toProblems } from './errors.js';
import { makeStagingDir, swapIn } from './output-dir.js';
import { generate, type SpecJob } from './pipeline.js';

/** This checkout: its node_modules and openapitools.json run the generators. */
const toolRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
/** The project generated for: openapi/ in, generated/ out. The checkout itself unless --root says otherwise. */
let projectRoot = toolRoot;
let generatedDir = join(projectRoot, 'generated');

/** Staging and temp dirs to remove when the run is interrupted (Ctrl-C), so no half-written tree is left behind. */
const pendingDirs = new Set<string>();
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    for (const path of pendingDirs) rmSync(path, { recursive: true, force: true });
    process.stderr.write(`generate: interrupted; nothing written\n`);
    process.exit(130);
  });
}

const USAGE = `usage: npm run generate [-- [--check] [--root DIR]]
       npm run generate -- --spec FILE --bank NAME --api NAME --out DIR`;

async function main(argv: readonly string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      options: {
        check: { type: 'boolean', default: false },
        spec: { type: 'string' },
        bank: { type: 'string' },
        api: { type: 'string' },
        out: { type: 'string' },
        root: { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (error) {
    return usage((error as Error).message);
  }
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if (values.root !== undefined) {
    projectRoot = resolve(values.root);
    generatedDir = join(projectRoot, 'generated');
  }
  const oneOff = [values.spec, values.bank, values.api, values.out];
  if (oneOff.some((value) => value !== undefined)) {
    if (values.check) return usage('--check compares generated/ and cannot be combined with --spec');
    if (oneOff.some((value) => value === undefined || value === '')) return usage('--spec, --bank, --api and --out go together');
    for (const [flag, name] of [['--bank', values.bank!], ['--api', values.api!]] as const) {
      if (!NAME_PATTERN.test(name)) return usage(`${flag} ${JSON.stringify(name)} must match ${NAME_PATTERN.source}`);
    }
    return generateOne(resolve(values.spec!), values.bank!, values.api!, resolve(values.out!));
  }
  return values.check ? check() : generateAll();
}

async function generateAll(): Promise<number> {
  const staging = await makeStagingDir(generatedDir);
  pendingDirs.add(staging);
  try {
    await generate({ ...tools(), jobs: await jobsFor(staging), indexDir: staging, warn });
    await swapIn(staging, generatedDir);
    process.stderr.write(`generate: wrote ${display(generatedDir)}/\n`);
    return 0;
  } catch (error) {
    return fail(error, `${display(generatedDir)}/ left unchanged`);
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}

async function check(): Promise<number> {
  const fresh = await mkdtemp(join(tmpdir(), 'bankgate-check-'));
  pendingDirs.add(fresh);
  try {
    await generate({ ...tools(), jobs: await jobsFor(fresh), indexDir: fresh, warn: () => {} });
    const differences = await compareTrees(fresh, generatedDir);
    if (differences.length === 0) {
      process.stderr.write(`generate --check: ${display(generatedDir)}/ is up to date\n`);
      return 0;
    }
    const label = { changed: 'differs', missing: 'missing (the generator writes it)', unexpected: 'unexpected (the generator no longer writes it)' };
    for (const { kind, path } of differences) process.stderr.write(`error: ${display(join(generatedDir, path))}: ${label[kind]} [CHECK_DIFF]\n`);
    process.stderr.write(`generate --check: ${differences.length} file(s) out of date; run npm run generate\n`);
    return 1;
  } catch (error) {
    return fail(error, 'check not completed');
  } finally {
    await rm(fresh, { recursive: true, force: true });
  }
}

async function generateOne(specPath: string, bank: string, api: string, out: string): Promise<number> {
  if (!existsSync(specPath)) return fail(new GenerateError('SPEC_READ', 'no such file', { file: display(specPath) }), `${display(out)} left unchanged`);
  // --out is replaced wholesale: refuse a directory that is not a previous generation (a typo must not wipe `.`).
  if (existsSync(out) && readdirSync(out).length > 0 && !existsSync(join(out, 'routes.ts'))) {
    return usage(`--out ${display(out)} exists and is not a previous generation (no routes.ts); choose an empty or new directory`);
  }
  const staging = await makeStagingDir(out);
  pendingDirs.add(staging);
  try {
    const job: SpecJob = { bank, api, specPath, file: display(specPath), source: fromRepoRoot(specPath), outDir: staging, finalDir: out };
    await generate({ ...tools(), jobs: [job], warn });
    await swapIn(staging, out);
    process.stderr.write(`generate: wrote ${display(out)}\n`);
    return 0;
  } catch (error) {
    return fail(error, `${display(out)} left unchanged`);
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}

async function jobsFor(root: string): Promise<SpecJob[]> {
  return (await discoverSpecs(join(projectRoot, 'openapi'))).map(({ bank, api, specPath }) => ({
    bank,
    api,
    specPath,
    file: display(specPath),
    source: fromRepoRoot(specPath),
    outDir: join(root, bank, api),
    finalDir: join(generatedDir, bank, api),
  }));
}

/** Names a path as the user would type it: relative to the working directory unless that climbs far. */
function display(path: string): string {
  const rel = relative(process.cwd(), path);
  if (rel === '') return '.';
  return rel.startsWith(`..${sep}..`) || isAbsolute(rel) ? path : rel.split(sep).join('/');
}

function tools(): { toolRoot: string; typesModule: string } {
  return { toolRoot, typesModule: join(projectRoot, 'plugin', 'manifest', 'types.js') };
}

function fromRepoRoot(path: string): string {
  return relative(projectRoot, path).split(sep).join('/');
}

function warn(line: string): void {
  process.stderr.write(`${line}\n`);
}

function fail(error: unknown, outcome: string): number {
  const problems = toProblems(error);
  for (const problem of problems) process.stderr.write(`error: ${problem.format()}\n`);
  if (process.env['BANKGATE_DEBUG'] && !(error instanceof GenerateError)) console.error(error);
  process.stderr.write(`generate: failed with ${problems.length} problem(s); ${outcome}\n`);
  return 1;
}

function usage(message: string): number {
  process.stderr.write(`error: ${message} [USAGE]\n${USAGE}\n`);
  return 2;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => process.exit(fail(error, 'nothing written')),
);
