#!/usr/bin/env tsx
/**
 * `npm run bench:profile`: bankgate under wrk with `--cpu-prof`, summarised into
 * bench/results/profile-bankgate.md (inclusive time, self time by package / source file, top functions) and
 * drawn as bench/results/flame-bankgate.svg, so that what a request costs can be read without opening
 * DevTools. The raw `.cpuprofile` is left in `.cache/bench-profile/` (Chrome DevTools, speedscope).
 *
 * Usage: npm run bench:profile [-- --seconds 10 --label fast-path --script bench/candidates/node-undici.ts]
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { parseArgs } from 'node:util';
import { renderFlameGraph, selfTimeById, type CpuProfile } from './lib/flame-graph.js';
import { NODE_TS, repoRoot, startProcess } from './lib/processes.js';
import { CALLER_HEADERS, freePort, GATEWAY_PATH, startUpstream } from './lib/setup.js';
import { runWrk } from './lib/wrk.js';

const { values } = parseArgs({ options: { seconds: { type: 'string', default: '10' }, label: { type: 'string', default: 'bankgate' }, script: { type: 'string', default: 'bench/gateway-under-test.ts' } } });
const profileDir = join(repoRoot, '.cache/bench-profile');
rmSync(profileDir, { recursive: true, force: true });
mkdirSync(profileDir, { recursive: true });

const dir = mkdtempSync(join(tmpdir(), 'bankgate-profile-'));
const upstream = await startUpstream(dir);
try {
  const port = await freePort();
  const gateway = await startProcess('node', [...NODE_TS, '--cpu-prof', '--cpu-prof-dir', profileDir, join(repoRoot, values.script)], upstream.candidateEnv(port));
  const url = `http://127.0.0.1:${port}${GATEWAY_PATH}`;
  await runWrk({ url, headers: CALLER_HEADERS, connections: 50, threads: 2, seconds: 3 }); // warm-up (JIT)
  const result = await runWrk({ url, headers: CALLER_HEADERS, connections: 50, threads: 2, seconds: Number(values.seconds) });
  await gateway.stop();
  if (result.requests === 0) throw new Error(`${values.script}: wrk got no answer from ${url} in ${values.seconds} s: nothing to profile (is the candidate serving that path?)`);
  const file = readdirSync(profileDir).find((f) => f.endsWith('.cpuprofile'));
  if (!file) throw new Error('no .cpuprofile written');
  const profile = JSON.parse(readFileSync(join(profileDir, file), 'utf8')) as CpuProfile;
  const heading = `${new Date().toISOString()}, node ${process.version}, wrk 50 connections, ${values.seconds} s (after a 3 s warm-up): ${result.rps.toFixed(0)} req/s under the profiler`;
  const flame = join(repoRoot, `bench/results/flame-${values.label}.svg`);
  writeFileSync(flame, renderFlameGraph(profile, `${values.label}: ${heading}`, placeOf));
  const out = join(repoRoot, `bench/results/profile-${values.label}.md`);
  writeFileSync(out, `# CPU profile: ${values.label}\n\n${heading}.\nFlame graph: [flame-${values.label}.svg](flame-${values.label}.svg). Raw profile: \`.cache/bench-profile/${file}\` (not committed).\n\n${summarise(profile)}`);
  console.log(`written to ${out} and ${flame}`);
} finally {
  await upstream.process.stop();
  rmSync(dir, { recursive: true, force: true });
}

function summarise(profile: CpuProfile): string {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = selfTimeById(profile);
  const total = [...self.values()].reduce((a, b) => a + b, 0);
  const functions = new Map<string, number>();
  const places = new Map<string, number>();
  for (const [id, us] of self) {
    const { functionName, url, lineNumber } = byId.get(id)!.callFrame;
    const where = placeOf(url);
    const fn = `${functionName || '(anonymous)'} ${where}${url ? `:${lineNumber + 1}` : ''}`;
    functions.set(fn, (functions.get(fn) ?? 0) + us);
    places.set(where, (places.get(where) ?? 0) + us);
  }
  // Inclusive time: a frame counts every sample under it once, so native work (socket writes, TLS) shows
  // under the JS that asked for it.
  const parentOf = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parentOf.set(child, node.id);
  const inclusive = new Map<string, number>();
  for (const [id, us] of self) {
    const seen = new Set<string>();
    for (let at: number | undefined = id; at !== undefined; at = parentOf.get(at)) {
      const { functionName, url } = byId.get(at)!.callFrame;
      const key = `${functionName || '(anonymous)'} ${placeOf(url)}`;
      if (seen.has(key) || key.startsWith('(root)')) continue;
      seen.add(key);
      inclusive.set(key, (inclusive.get(key) ?? 0) + us);
    }
  }
  const table = (rows: Map<string, number>, n: number) =>
    [...rows].sort((a, b) => b[1] - a[1]).slice(0, n).map(([name, us]) => `| ${(100 * us / total).toFixed(1)} % | \`${name.replace(/\|/g, '\\|')}\` |`).join('\n');
  return `## Inclusive time (top 40): what each frame and everything under it cost\n\n| share | frame |\n|---:|---|\n${table(inclusive, 40)}\n\n## Self time by package / file (top 25)\n\n| share | where |\n|---:|---|\n${table(places, 25)}\n\n## Top 40 functions by self time\n\n| share | function |\n|---:|---|\n${table(functions, 40)}\n`;
}

/** `node_modules/undici/lib/…` → `undici`; a project file → its path; Node internals → `node:<module>`. */
function placeOf(url: string): string {
  if (!url) return '(native / VM)';
  const path = url.replace(/^file:\/\//, '');
  const nm = path.lastIndexOf('node_modules/');
  if (nm !== -1) {
    const parts = path.slice(nm + 'node_modules/'.length).split('/');
    return parts[0]!.startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0]!;
  }
  if (path.startsWith('node:')) return path;
  return path.startsWith('/') ? relative(repoRoot, path) : path;
}
