import { existsSync, readdirSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, isAbsolute, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ApiChanges } from './changes.js';
import { buildReport, renderReportJson, renderReportMarkdown, REPORT_JSON, REPORT_MARKDOWN, type ChangeReport } from './change-report.js';
import { compareTrees } from './check.js';
import { discoverSpecs } from './discover.js';
import { GenerateError, toProblems } from './errors.js';
import { generationInputs, isUpToDate, toolVersions } from './incremental.js';
import { makeStagingDir, swapIn } from './output-dir.js';
import type { SpecInput, SpecJob } from './pipeline.js';
import { SURFACE_DIR, surfaceKey, writeSurface, type SurfaceApiDir } from './surface.js';
import { renderTopLevel, writeIfChanged } from './write-index.js';

/** This checkout: its node_modules and openapitools.json run the generators. */
const toolRoot = resolveToolRoot();

export interface RunContext {
  /** The project generated for (openapi/ in, generated/ out); this checkout when undefined. */
  readonly projectRoot: string | undefined;
  readonly force: boolean;
  readonly failOnBreaking: boolean;
  /** Temp dirs the signal handler removes on Ctrl-C. */
  readonly pendingDirs: Set<string>;
}

/** The change report is history, not a function of the inputs: --check and the incremental check leave it out. */
const REPORT_FILES: ReadonlySet<string> = new Set([REPORT_MARKDOWN, REPORT_JSON]);

/** Every spec of the project → generated/, regenerating only APIs whose inputs or files changed. */
export async function generateAll(context: RunContext): Promise<number> {
  const { projectRoot, generatedDir } = roots(context);
  const stagings: string[] = [];
  try {
    const jobs = await jobsFor(projectRoot, generatedDir, (finalDir) => finalDir);
    const stale: SpecJob[] = [];
    for (const job of jobs) if (context.force || !(await isUpToDate(job.finalDir, job.generation.key))) stale.push(job);
    const removed = await removedApis(generatedDir, jobs);
    const surfaceApis = jobs.map((job): SurfaceApiDir => ({ bank: job.bank, api: job.api, dir: job.finalDir, key: job.generation.key }));
    const surfaceDir = join(generatedDir, SURFACE_DIR);
    const surface = await surfaceKey(toolRoot, surfaceApis);
    const surfaceStale = context.force || !(await isUpToDate(surfaceDir, surface));
    await mkdir(generatedDir, { recursive: true });
    if (stale.length === 0 && removed.length === 0 && !surfaceStale) {
      const written = await writeIfChanged(generatedDir, renderTopLevel(jobs));
      const strays = await removeStrays(generatedDir, jobs);
      const what = written.length + strays.length === 0 ? 'up to date' : `up to date; rewrote ${[...written, ...strays].join(', ')}`;
      process.stderr.write(`generate: ${display(generatedDir)}/ ${what} (${jobs.length} API(s) unchanged)\n`);
      return 0;
    }
    const staged: SpecJob[] = [];
    for (const job of stale) {
      const outDir = await makeStagingDir(job.finalDir);
      stagings.push(outDir);
      context.pendingDirs.add(outDir);
      staged.push({ ...job, outDir });
    }
    const { generate, previousGeneration } = await import('./pipeline.js');
    const results = staged.length > 0 ? await generate({ ...tools(projectRoot), jobs: staged, compare: true, warn }) : [];
    const { diffApis } = await import('./changes.js');
    const changes: ApiChanges[] = results.map((result) => result.changes!);
    for (const { bank, api, dir } of removed) changes.push(diffApis(bank, api, await previousGeneration(dir, bank, api), undefined));

    // Everything generated: now make it visible, API by API (each swap is atomic).
    for (const job of staged) await swapIn(job.outDir, job.finalDir);
    for (const { dir } of removed) await rm(dir, { recursive: true, force: true });
    // The surface merges the APIs now on disk: built after they are swapped in.
    const surfaceStaging = await makeStagingDir(surfaceDir);
    stagings.push(surfaceStaging);
    context.pendingDirs.add(surfaceStaging);
    await writeSurface(surfaceStaging, surfaceApis, surface);
    await swapIn(surfaceStaging, surfaceDir);
    await removeStrays(generatedDir, jobs);
    await writeIfChanged(generatedDir, renderTopLevel(jobs));
    const report = buildReport(changes);
    if (changes.length > 0) {
      await writeFile(join(generatedDir, REPORT_MARKDOWN), renderReportMarkdown(report));
      await writeFile(join(generatedDir, REPORT_JSON), renderReportJson(report));
    }
    const unchanged = jobs.length - stale.length;
    process.stderr.write(`generate: regenerated ${[...stale.map((job) => `${job.bank}/${job.api}`), SURFACE_DIR].join(', ')}${removed.length > 0 ? `; removed ${removed.map((r) => `${r.bank}/${r.api}`).join(', ')}` : ''}${unchanged > 0 ? ` (${unchanged} unchanged)` : ''}\n`);
    return reportOutcome(report, display(join(generatedDir, REPORT_MARKDOWN)), context.failOnBreaking, display(generatedDir));
  } catch (error) {
    return fail(error, `${display(generatedDir)}/ left unchanged`);
  } finally {
    for (const dir of stagings) {
      await rm(dir, { recursive: true, force: true });
      context.pendingDirs.delete(dir);
    }
  }
}

/** Regenerates everything into a temp dir and compares it with generated/ file by file (hand edits included). */
export async function check(context: RunContext): Promise<number> {
  const { projectRoot, generatedDir } = roots(context);
  const fresh = await mkdtemp(join(tmpdir(), 'bankgate-check-'));
  context.pendingDirs.add(fresh);
  try {
    const jobs = await jobsFor(projectRoot, generatedDir, (finalDir) => join(fresh, relative(generatedDir, finalDir)));
    const { generate } = await import('./pipeline.js');
    await generate({ ...tools(projectRoot), jobs, compare: false, warn: () => {} });
    const surfaceApis = jobs.map((job): SurfaceApiDir => ({ bank: job.bank, api: job.api, dir: job.outDir, key: job.generation.key }));
    await writeSurface(join(fresh, SURFACE_DIR), surfaceApis, await surfaceKey(toolRoot, surfaceApis));
    await writeIfChanged(fresh, renderTopLevel(jobs));
    const differences = (await compareTrees(fresh, generatedDir)).filter((difference) => !REPORT_FILES.has(difference.path));
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
    context.pendingDirs.delete(fresh);
  }
}

export interface OneOff {
  readonly specPath: string;
  readonly bank: string;
  readonly api: string;
  readonly out: string;
  readonly overlays: readonly string[];
}

/** One spec (any path, overlays from --overlay) → `out`, replaced wholesale; the change report goes into `out` too. */
export async function generateOne(context: RunContext, { specPath, bank, api, out, overlays }: OneOff): Promise<number> {
  const { projectRoot } = roots(context);
  for (const path of [specPath, ...overlays]) {
    if (!existsSync(path)) return fail(new GenerateError('SPEC_READ', 'no such file', { file: display(path) }), `${display(out)} left unchanged`);
  }
  // --out is replaced wholesale: refuse a directory that is not a previous generation (a typo must not wipe `.`).
  if (existsSync(out) && readdirSync(out).length > 0 && !existsSync(join(out, 'routes.ts'))) {
    process.stderr.write(`error: --out ${display(out)} exists and is not a previous generation (no routes.ts); choose an empty or new directory [USAGE]\n`);
    return 2;
  }
  let staging: string | undefined;
  try {
    const job = await jobOf(projectRoot, bank, api, specPath, overlays, out);
    if (!context.force && (await isUpToDate(out, job.generation.key, REPORT_FILES))) {
      process.stderr.write(`generate: ${display(out)} is up to date\n`);
      return 0;
    }
    staging = await makeStagingDir(out);
    context.pendingDirs.add(staging);
    const { generate } = await import('./pipeline.js');
    const [result] = await generate({ ...tools(projectRoot), jobs: [{ ...job, outDir: staging }], compare: true, warn });
    const report = buildReport([result!.changes!]);
    await writeFile(join(staging, REPORT_MARKDOWN), renderReportMarkdown(report));
    await writeFile(join(staging, REPORT_JSON), renderReportJson(report));
    await swapIn(staging, out);
    process.stderr.write(`generate: wrote ${display(out)}\n`);
    return reportOutcome(report, display(join(out, REPORT_MARKDOWN)), context.failOnBreaking, display(out));
  } catch (error) {
    return fail(error, `${display(out)} left unchanged`);
  } finally {
    if (staging !== undefined) {
      await rm(staging, { recursive: true, force: true });
      context.pendingDirs.delete(staging);
    }
  }
}

/** Summarises the report on stderr; with --fail-on-breaking, one error line per breaking change and exit 3. */
function reportOutcome(report: ChangeReport, reportFile: string, failOnBreaking: boolean, outDir: string): number {
  if (report.breaking + report.nonBreaking > 0) {
    process.stderr.write(`generate: ${report.breaking} breaking and ${report.nonBreaking} non-breaking change(s); see ${reportFile}\n`);
  }
  if (!failOnBreaking || report.breaking === 0) return 0;
  for (const api of report.apis) {
    for (const change of api.changes.filter((c) => c.breaking)) {
      process.stderr.write(`error: ${api.bank}/${api.api}: ${change.operation} (${change.operationId}): ${change.message} [BREAKING_CHANGE]\n`);
    }
  }
  process.stderr.write(`generate: --fail-on-breaking: ${report.breaking} breaking change(s); ${outDir} was written, review ${reportFile}\n`);
  return 3;
}

function roots(context: RunContext): { projectRoot: string; generatedDir: string } {
  const projectRoot = context.projectRoot ?? toolRoot;
  return { projectRoot, generatedDir: join(projectRoot, 'generated') };
}

async function jobsFor(projectRoot: string, generatedDir: string, outDirOf: (finalDir: string) => string): Promise<SpecJob[]> {
  const jobs: SpecJob[] = [];
  for (const { bank, api, specPath, overlayPath } of await discoverSpecs(join(projectRoot, 'openapi'))) {
    const finalDir = join(generatedDir, bank, api);
    const job = await jobOf(projectRoot, bank, api, specPath, overlayPath ? [overlayPath] : [], finalDir);
    jobs.push({ ...job, outDir: outDirOf(finalDir) });
  }
  return jobs;
}

async function jobOf(projectRoot: string, bank: string, api: string, specPath: string, overlayPaths: readonly string[], finalDir: string): Promise<SpecJob> {
  const input = (path: string): SpecInput => ({ path, file: display(path), source: fromRoot(projectRoot, path) });
  const overlays = overlayPaths.map(input);
  const generation = await generationInputs(input(specPath), overlays, await toolVersions(toolRoot));
  return { bank, api, specPath, file: display(specPath), source: fromRoot(projectRoot, specPath), overlays, outDir: finalDir, finalDir, generation };
}

/** API directories under generated/ whose spec is gone. */
async function removedApis(generatedDir: string, jobs: readonly SpecJob[]): Promise<{ bank: string; api: string; dir: string }[]> {
  const known = new Set(jobs.map((job) => `${job.bank}/${job.api}`));
  const removed: { bank: string; api: string; dir: string }[] = [];
  for (const bank of await subdirs(generatedDir)) {
    for (const api of await subdirs(join(generatedDir, bank))) {
      const dir = join(generatedDir, bank, api);
      if (!known.has(`${bank}/${api}`) && existsSync(join(dir, 'routes.ts'))) removed.push({ bank, api, dir });
    }
  }
  return removed;
}

/** Removes what no generation owns: stray files at the top and bank levels, empty bank directories. */
async function removeStrays(generatedDir: string, jobs: readonly SpecJob[]): Promise<string[]> {
  const banks = new Set(jobs.map((job) => job.bank));
  const apis = new Set(jobs.map((job) => `${job.bank}/${job.api}`));
  const removed: string[] = [];
  const topLevel = new Set(['index.ts', 'README.md', ...REPORT_FILES]);
  for (const entry of await readdir(generatedDir, { withFileTypes: true })) {
    if (entry.name.startsWith('.')) continue;
    const path = join(generatedDir, entry.name);
    if (entry.isDirectory() ? !banks.has(entry.name) && entry.name !== SURFACE_DIR : !topLevel.has(entry.name)) {
      await rm(path, { recursive: true, force: true });
      removed.push(display(path));
      continue;
    }
    if (!entry.isDirectory() || entry.name === SURFACE_DIR) continue;
    for (const inner of await readdir(path, { withFileTypes: true })) {
      if (inner.name.startsWith('.') || (inner.isDirectory() && apis.has(`${entry.name}/${inner.name}`))) continue;
      await rm(join(path, inner.name), { recursive: true, force: true });
      removed.push(display(join(path, inner.name)));
    }
  }
  return removed;
}

async function subdirs(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  return entries.filter((entry) => entry.isDirectory() && !entry.name.startsWith('.')).map((entry) => entry.name).sort();
}

/** Names a path as the user would type it: relative to the working directory unless that climbs far. */
export function display(path: string): string {
  const rel = relative(process.cwd(), path);
  if (rel === '') return '.';
  return rel.startsWith(`..${sep}..`) || isAbsolute(rel) ? path : rel.split(sep).join('/');
}

function tools(projectRoot: string): { toolRoot: string; typesModule: string } {
  // A project holding bankgate's sources (this checkout) imports the manifest types relatively; any other imports the package.
  const own = join(projectRoot, 'plugin', 'manifest', 'types.ts');
  return { toolRoot, typesModule: existsSync(own) ? join(projectRoot, 'plugin', 'manifest', 'types.js') : 'bankgate' };
}

function fromRoot(projectRoot: string, path: string): string {
  return relative(projectRoot, path).split(sep).join('/');
}

function warn(line: string): void {
  process.stderr.write(`${line}\n`);
}

export function fail(error: unknown, outcome: string): number {
  const problems = toProblems(error);
  for (const problem of problems) process.stderr.write(`error: ${problem.format()}\n`);
  if (process.env['BANKGATE_DEBUG'] && !(error instanceof GenerateError)) console.error(error);
  process.stderr.write(`generate: failed with ${problems.length} problem(s); ${outcome}\n`);
  return 1;
}

/** The bankgate package (this checkout, or node_modules/bankgate): the nearest directory up with openapitools.json, from source or dist/. */
function resolveToolRoot(): string {
  for (let dir = dirname(fileURLToPath(import.meta.url)); ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'openapitools.json'))) return dir;
    if (dirname(dir) === dir) throw new Error(`no openapitools.json above ${fileURLToPath(import.meta.url)}: bankgate is not installed whole`);
  }
}
