#!/usr/bin/env node
// npm run build: dist/ from the TypeScript sources, incrementally.
//   JavaScript: esbuild, file by file (ES modules, source maps with their sources inlined, no bundling), the
//     whole tree in about a second; skipped when no input changed (a stamp of every input's path, size and
//     mtime). tsc emitting the same JavaScript takes ~25 s cold and ~6 s on a no-change incremental run.
//   Declarations (.d.ts + maps) of what the package exports: `tsc -b tsconfig.build.json` (its own
//     up-to-date check: a no-change run costs ~0.3 s of CPU).
// Usage: node scripts/build.mjs [--js]
//   --js  JavaScript only: what `npm start`, `npm run gateway`, `npm run sandbox` and bench/gateway-under-test run.
// Concurrent builds (two tests, a prestart and a prepack) wait for each other on a lock in dist/.build/.
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { copyFileSync, globSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const OUT = 'dist';
const STATE = join(OUT, '.build');

/**
 * What is compiled to JavaScript. The package's entry points are named once, in package.json `exports` and `bin`:
 * all of plugin/ and scripts/ is built, so repointing an entry point is an edit of package.json alone.
 */
const JS_SOURCES = [
  'plugin/**/*.ts', // the package (exports: bankgate, bankgate/node, bankgate/client)
  'scripts/**/*.ts', // the bankgate CLI (bin) and the repository's commands
  'sandbox/**/*.ts', // npm run sandbox, npm start; connect's headless consent
  'generated/index.ts', // this repository's generated manifests and documents (hono.config.ts, the sandbox)
  'generated/*/*/routes.ts',
  'hono.config.ts',
  'bench/gateway-under-test.ts',
  'bench/lib/bench-bank.ts',
];
const NOT_BUILT = /(\.test|\.fixture|\.d)\.ts$/;
/** Imported `with { type: 'json' }`, or generated as JavaScript (precompiled validators): copied beside their importers. */
const COPIED = ['generated/*/*/openapi.json', 'generated/*/*/validators.js'];

const require = createRequire(import.meta.url);
const jsOnly = process.argv.includes('--js');
const say = (line) => process.stderr.write(`build: ${line}\n`);

const release = await acquireLock();
let failed = false;
try {
  buildJavaScript();
  if (!jsOnly) buildDeclarations();
} catch (error) {
  failed = true;
  say(error instanceof BuildError ? error.message : String(error?.stack ?? error));
} finally {
  release();
}
process.exit(failed ? 1 : 0);

function buildJavaScript() {
  const sources = JS_SOURCES.flatMap((pattern) => globSync(pattern, { cwd: root })).filter((file) => !NOT_BUILT.test(file));
  const copied = COPIED.flatMap((pattern) => globSync(pattern, { cwd: root }));
  const inputs = [...new Set([...sources, ...copied])].sort();
  const key = stampOf([...inputs, 'scripts/build.mjs', 'tsconfig.json'], require('esbuild/package.json').version);
  const stampFile = join(root, STATE, 'javascript.json');
  const previous = readJson(stampFile);
  if (previous?.key === key && previous.outputs.every((file) => exists(join(root, file)))) {
    say(`${OUT}/ JavaScript up to date (${sources.length} modules)`);
    return;
  }
  const started = performance.now();
  const esbuild = require('esbuild');
  const result = esbuild.buildSync({
    absWorkingDir: root,
    entryPoints: sources,
    outdir: OUT,
    outbase: '.',
    format: 'esm',
    platform: 'node',
    target: 'node22',
    sourcemap: true,
    bundle: false,
    metafile: true,
    logLevel: 'silent',
    tsconfig: 'tsconfig.json',
  });
  if (result.warnings.length > 0) for (const line of esbuild.formatMessagesSync(result.warnings, { kind: 'warning' })) process.stderr.write(line);
  for (const file of copied) {
    mkdirSync(dirname(join(root, OUT, file)), { recursive: true });
    copyFileSync(join(root, file), join(root, OUT, file));
  }
  const outputs = [...Object.keys(result.metafile.outputs), ...copied.map((file) => join(OUT, file))].sort();
  // A deleted or moved source must not leave an importable module behind.
  const current = new Set(outputs);
  for (const file of previous?.outputs ?? []) if (!current.has(file)) rmSync(join(root, file), { force: true });
  mkdirSync(join(root, STATE), { recursive: true });
  writeFileSync(stampFile, `${JSON.stringify({ key, outputs }, null, 1)}\n`);
  say(`${OUT}/ JavaScript: ${sources.length} modules in ${seconds(started)}`);
}

function buildDeclarations() {
  const started = performance.now();
  try {
    execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-b', 'tsconfig.build.json'], { cwd: root, stdio: ['ignore', 'inherit', 'inherit'] });
  } catch {
    throw new BuildError('declarations failed (tsc -b tsconfig.build.json): see the errors above');
  }
  say(`${OUT}/ declarations checked and emitted where stale (tsc -b) in ${seconds(started)}`);
}

/** One hash over every input's path, size and mtime, and the compiler's version. */
function stampOf(files, compilerVersion) {
  const hash = createHash('sha256').update(`esbuild ${compilerVersion}\n`);
  for (const file of files) {
    const { size, mtimeMs } = statSync(join(root, file));
    hash.update(`${file}\t${size}\t${mtimeMs}\n`);
  }
  return hash.digest('hex');
}

/** A directory made atomically; a lock left by a process that died is taken over. Waits up to 10 minutes. */
async function acquireLock() {
  const lock = join(root, STATE, 'lock');
  mkdirSync(join(root, STATE), { recursive: true });
  const deadline = Date.now() + 600_000;
  let told = false;
  for (;;) {
    try {
      mkdirSync(lock);
      writeFileSync(join(lock, 'pid'), String(process.pid));
      return () => rmSync(lock, { recursive: true, force: true });
    } catch (error) {
      if (error.code !== 'EEXIST') throw error;
    }
    const owner = Number(readFileSafe(join(lock, 'pid')));
    if (owner > 0 && !alive(owner)) {
      rmSync(lock, { recursive: true, force: true });
      continue;
    }
    if (Date.now() > deadline) throw new BuildError(`${relative(process.cwd(), lock)} is held by process ${owner || '?'}; remove it if no build is running`);
    if (!told) say(`waiting for the build in process ${owner || '?'}`);
    told = true;
    await new Promise((resolvePromise) => setTimeout(resolvePromise, 100));
  }
}

function alive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return error.code === 'EPERM';
  }
}

function readJson(file) {
  try {
    return JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    return undefined;
  }
}

function readFileSafe(file) {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

function exists(file) {
  try {
    statSync(file);
    return true;
  } catch {
    return false;
  }
}

function seconds(started) {
  return `${((performance.now() - started) / 1000).toFixed(1)} s`;
}

class BuildError extends Error {}
