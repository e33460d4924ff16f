#!/usr/bin/env tsx
/**
 * `npm run bench:startup`: time from spawning `bench/gateway-under-test` to the first bank call it serves
 * (`GET /bench/api/accounts` answered 200 over mTLS), polled every 5 ms; also when it printed `ready`.
 * Includes Node's start, tsx compiling the TypeScript (cached after the first run), config validation,
 * the store opening and the first TLS handshake with the bank. Writes bench/results/startup.json.
 *
 * Usage: npm run bench:startup [-- --runs 5]
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { repoRoot, stopProcess } from './lib/processes.js';
import { CALLER_HEADERS, freePort, GATEWAY_PATH, startUpstream } from './lib/setup.js';

const { values } = parseArgs({ options: { runs: { type: 'string', default: '5' } } });
const dir = mkdtempSync(join(tmpdir(), 'bankgate-startup-'));
const upstream = await startUpstream(dir);
const samples: Array<{ readyMs: number; firstCallMs: number }> = [];
try {
  for (let run = 0; run < Number(values.runs); run++) {
    const port = await freePort();
    const started = performance.now();
    let readyMs = NaN;
    const child = spawn(join(repoRoot, 'bench/gateway-under-test'), [], { env: { ...process.env, ...upstream.candidateEnv(port) }, stdio: ['ignore', 'pipe', 'ignore'] });
    child.stdout!.on('data', (chunk: Buffer) => {
      if (Number.isNaN(readyMs) && chunk.toString().includes('ready')) readyMs = performance.now() - started;
    });
    let firstCallMs = NaN;
    while (Number.isNaN(firstCallMs)) {
      if (child.exitCode !== null) throw new Error(`gateway-under-test exited with ${child.exitCode}`);
      const ok = await fetch(`http://127.0.0.1:${port}${GATEWAY_PATH}`, { headers: CALLER_HEADERS }).then((r) => r.status === 200, () => false);
      if (ok) firstCallMs = performance.now() - started;
      else await new Promise((r) => setTimeout(r, 5));
    }
    samples.push({ readyMs: Math.round(readyMs), firstCallMs: Math.round(firstCallMs) });
    console.log(`run ${run + 1}: ready after ${Math.round(readyMs)} ms, first call served after ${Math.round(firstCallMs)} ms`);
    await stopProcess(child);
  }
} finally {
  await upstream.process.stop();
  rmSync(dir, { recursive: true, force: true });
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const out = join(repoRoot, 'bench/results/startup.json');
mkdirSync(join(out, '..'), { recursive: true });
writeFileSync(out, `${JSON.stringify({ benchmark: 'startup', date: new Date().toISOString(), node: process.version, medianReadyMs: median(samples.map((s) => s.readyMs)), medianFirstCallMs: median(samples.map((s) => s.firstCallMs)), samples }, null, 2)}\n`);
console.log(`written to ${out}`);
