#!/usr/bin/env tsx
/**
 * `npm run bench:generate`: how long code generation takes, written to bench/results/generate.json.
 *
 *   project/full        every spec of openapi/ into an empty generated/ (one JVM for all SDKs)
 *   project/unchanged   the same tree again, nothing changed (the incremental check only)
 *   real/<name>         each real spec in ../shared/specs (with its overlay from openapi/overlays/real/, if any), one-off form
 *
 * Each case runs the real CLI in a temp copy (the repository's generated/ is never touched); `--runs N` (default 1)
 * repeats each and keeps every sample, median first.
 */
import { execFile } from 'node:child_process';
import { cpus } from 'node:os';
import { cp, mkdir, mkdtemp, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const sharedSpecs = resolve(repoRoot, '../shared/specs');
const overlays = join(repoRoot, 'openapi', 'overlays', 'real');
const REAL: readonly { name: string; spec: string; overlay?: string }[] = [
  { name: 'berlin-group-psd2', spec: 'berlin-group/psd2-api 1.3.9 2021-05-04v1.yaml', overlay: 'berlin-group-psd2.overlay.yaml' },
  { name: 'stet-psd2', spec: 'stet/stet-ais-pis-1.5.0.json', overlay: 'stet-psd2.overlay.yaml' },
  { name: 'stet-registration', spec: 'stet/stet-registration-1.0.json', overlay: 'stet-registration.overlay.yaml' },
  { name: 'kbc-ais', spec: 'other-banks/kbc/kbc-be-psd2-api.yaml', overlay: 'kbc-ais.overlay.yaml' },
  // The largest real spec (~0.5 MB), and a multi-file source form (230 files, bundled first).
  { name: 'ukob-pisp', spec: 'uk-openbanking/v4.0-Update-4/payment-initiation-openapi.yaml' },
  { name: 'openwealth-source', spec: 'other-banks/openwealth/src/custody/API.yaml' },
];

interface Case {
  readonly name: string;
  readonly specBytes: number;
  /** Milliseconds, one per run. */
  readonly samples: number[];
  readonly medianMs: number;
}

function generate(args: string[], cwd: string): Promise<number> {
  const started = performance.now();
  return new Promise((resolvePromise, reject) => {
    execFile(join(repoRoot, 'node_modules', '.bin', 'tsx'), [join(repoRoot, 'scripts', 'generate', 'main.ts'), ...args], { cwd, maxBuffer: 64 * 1024 * 1024 }, (error, _stdout, stderr) => {
      if (error) reject(new Error(`generate ${args.join(' ')} failed:\n${stderr}`));
      else resolvePromise(performance.now() - started);
    });
  });
}

function median(samples: number[]): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return Math.round(sorted[Math.floor(sorted.length / 2)]!);
}

async function sizeOf(dir: string): Promise<number> {
  const { readdir } = await import('node:fs/promises');
  let total = 0;
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) if (entry.isFile()) total += (await stat(join(entry.parentPath, entry.name))).size;
  return total;
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { runs: { type: 'string', default: '1' } } });
  const runs = Math.max(1, Number(values.runs));
  const work = await mkdtemp(join(tmpdir(), 'bankgate-bench-'));
  const cases: Case[] = [];
  try {
    const full: number[] = [];
    const unchanged: number[] = [];
    for (let i = 0; i < runs; i++) {
      const root = join(work, `project-${i}`);
      await cp(join(repoRoot, 'openapi'), join(root, 'openapi'), { recursive: true });
      await symlink(join(repoRoot, 'plugin'), join(root, 'plugin'), 'dir');
      full.push(await generate(['--root', root], root));
      unchanged.push(await generate(['--root', root], root));
    }
    const projectBytes = await sizeOf(join(repoRoot, 'openapi'));
    cases.push({ name: 'project/full', specBytes: projectBytes, samples: full, medianMs: median(full) });
    cases.push({ name: 'project/unchanged', specBytes: projectBytes, samples: unchanged, medianMs: median(unchanged) });
    for (const real of REAL) {
      const samples: number[] = [];
      for (let i = 0; i < runs; i++) {
        const out = join(work, `${real.name}-${i}`);
        const overlay = real.overlay ? ['--overlay', join(overlays, real.overlay)] : [];
        samples.push(await generate(['--spec', join(sharedSpecs, real.spec), '--bank', 'bench', '--api', 'api', '--out', out, ...overlay], work));
      }
      cases.push({ name: `real/${real.name}`, specBytes: (await stat(join(sharedSpecs, real.spec))).size, samples: samples.map(Math.round), medianMs: median(samples) });
    }
  } finally {
    await rm(work, { recursive: true, force: true });
  }
  for (const c of cases) c.samples.splice(0, c.samples.length, ...c.samples.map(Math.round));
  const fullMs = cases.find((c) => c.name === 'project/full')!.medianMs;
  const unchangedMs = cases.find((c) => c.name === 'project/unchanged')!.medianMs;
  const result = {
    benchmark: 'generate',
    date: new Date().toISOString(),
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
    cpus: cpus().length,
    runs,
    unchangedToFullRatio: Math.round((unchangedMs / fullMs) * 1000) / 1000,
    cases,
  };
  await mkdir(join(repoRoot, 'bench', 'results'), { recursive: true });
  await writeFile(join(repoRoot, 'bench', 'results', 'generate.json'), `${JSON.stringify(result, null, 2)}\n`);
  for (const c of cases) process.stdout.write(`${c.name.padEnd(28)} ${String(c.medianMs).padStart(7)} ms  (${(c.specBytes / 1024).toFixed(0)} KB of spec)\n`);
  process.stdout.write(`unchanged / full: ${result.unchangedToFullRatio}; wrote bench/results/generate.json\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`bench:generate: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
