#!/usr/bin/env tsx
/**
 * `npm run bench:startup`: time from spawning the gateway to the first bank call it serves
 * (`GET /bench/api/accounts` answered 200 over mTLS), polled every 5 ms; also when it printed `ready`. Three ways
 * of starting the same gateway, interleaved run by run so that machine noise hits them alike:
 *   built         `bench/gateway-under-test` as harnesses run it: the built JavaScript in dist/, after the
 *                 freshness check of dist/ (scripts/build.mjs --js, a no-op here: `npm run` builds first)
 *   built-direct  `node dist/bench/gateway-under-test.js`: the built JavaScript without that check
 *   tsx           `BANKGATE_FROM_SOURCE=1 bench/gateway-under-test`: the TypeScript through tsx, as before the
 *                 build existed (tsx's transform cache warm after the first run)
 * Each includes Node's start, loading the modules, config validation, the store opening and the first TLS
 * handshake with the bank. Also the CPU time the gateway process (and its live children: tsx's esbuild) had used
 * when the first call was served: unlike wall time, it does not grow with the machine's load. Writes
 * bench/results/startup.json.
 *
 * Usage: npm run bench:startup [-- --runs 5]
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { cpuMicros } from './lib/cpu.js';
import { repoRoot, stopProcess } from './lib/processes.js';
import { CALLER_HEADERS, freePort, GATEWAY_PATH, startUpstream } from './lib/setup.js';

interface Variant {
  readonly name: string;
  readonly what: string;
  readonly command: string;
  readonly args: readonly string[];
  readonly env: Readonly<Record<string, string>>;
}

const script = join(repoRoot, 'bench/gateway-under-test');
const VARIANTS: readonly Variant[] = [
  { name: 'built', what: 'bench/gateway-under-test: dist/ JavaScript, freshness check of dist/ included', command: script, args: [], env: {} },
  { name: 'built-direct', what: 'node dist/bench/gateway-under-test.js', command: process.execPath, args: [join(repoRoot, 'dist/bench/gateway-under-test.js')], env: {} },
  { name: 'tsx', what: 'BANKGATE_FROM_SOURCE=1 bench/gateway-under-test: TypeScript through tsx', command: script, args: [], env: { BANKGATE_FROM_SOURCE: '1' } },
];

interface Sample {
  readonly readyMs: number;
  readonly firstCallMs: number;
  /** CPU of the gateway process (and live children) when the first call was served. */
  readonly cpuMs: number;
}

const { values } = parseArgs({ options: { runs: { type: 'string', default: '5' } } });
// Wall times grow with the machine's load; the run records it (1-minute load average, before and after).
const loadBefore = loadavg()[0]!;
const dir = mkdtempSync(join(tmpdir(), 'bankgate-startup-'));
const upstream = await startUpstream(dir);
const samples = new Map<string, Sample[]>(VARIANTS.map((variant) => [variant.name, []]));
try {
  for (let run = 0; run < Number(values.runs); run++) {
    for (const variant of VARIANTS) {
      const sample = await measure(variant);
      samples.get(variant.name)!.push(sample);
      console.log(`run ${run + 1} ${variant.name.padEnd(12)}: ready after ${sample.readyMs} ms, first call served after ${sample.firstCallMs} ms, ${sample.cpuMs} ms CPU`);
    }
  }
} finally {
  await upstream.process.stop();
  rmSync(dir, { recursive: true, force: true });
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const variants = VARIANTS.map((variant) => {
  const of = samples.get(variant.name)!;
  return { name: variant.name, what: variant.what, medianReadyMs: median(of.map((s) => s.readyMs)), medianFirstCallMs: median(of.map((s) => s.firstCallMs)), medianCpuMs: median(of.map((s) => s.cpuMs)), samples: of };
});
const built = variants.find((variant) => variant.name === 'built')!;
const out = join(repoRoot, 'bench/results/startup.json');
mkdirSync(join(out, '..'), { recursive: true });
// medianReadyMs / medianFirstCallMs / samples at the top: the harness-facing way (built), as before.
const machine = { cores: availableParallelism(), loadAverage: [Number(loadBefore.toFixed(1)), Number(loadavg()[0]!.toFixed(1))] };
writeFileSync(out, `${JSON.stringify({ benchmark: 'startup', date: new Date().toISOString(), node: process.version, machine, medianReadyMs: built.medianReadyMs, medianFirstCallMs: built.medianFirstCallMs, samples: built.samples, variants }, null, 2)}\n`);
for (const variant of variants) console.log(`${variant.name.padEnd(12)} median: ready ${variant.medianReadyMs} ms, first call ${variant.medianFirstCallMs} ms, ${variant.medianCpuMs} ms CPU`);
console.log(`written to ${out}`);

async function measure(variant: Variant): Promise<Sample> {
  const port = await freePort();
  const started = performance.now();
  let readyMs = NaN;
  const child = spawn(variant.command, [...variant.args], { env: { ...process.env, ...upstream.candidateEnv(port), ...variant.env }, stdio: ['ignore', 'pipe', 'ignore'] });
  child.stdout!.on('data', (chunk: Buffer) => {
    if (Number.isNaN(readyMs) && chunk.toString().includes('ready')) readyMs = performance.now() - started;
  });
  let firstCallMs = NaN;
  let cpuMs = NaN;
  try {
    while (Number.isNaN(firstCallMs)) {
      if (child.exitCode !== null) throw new Error(`${variant.name}: the gateway exited with ${child.exitCode}`);
      const ok = await fetch(`http://127.0.0.1:${port}${GATEWAY_PATH}`, { headers: CALLER_HEADERS }).then((r) => r.status === 200, () => false);
      if (ok) {
        firstCallMs = performance.now() - started;
        cpuMs = cpuMicros(child.pid!) / 1000;
      } else await new Promise((r) => setTimeout(r, 5));
    }
  } finally {
    await stopProcess(child);
  }
  return { readyMs: Math.round(readyMs), firstCallMs: Math.round(firstCallMs), cpuMs: Math.round(cpuMs) };
}
