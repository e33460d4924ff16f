#!/usr/bin/env tsx
/**
 * `npm run bench:proxy`: every candidate forwards `GET /bench/api/accounts` to the same mTLS upstream with the
 * bank's bearer token; wrk drives each in turn, interleaved (A B C … A B C …) for several rounds after a
 * warm-up, so that drift on a shared machine shows in the samples instead of favouring one candidate.
 * CPU per request is the candidate process's own (and its children's) from /proc. Writes
 * bench/results/proxy.json; `npm run bench:report` turns it into the chart and the README table.
 *
 * Usage: npm run bench:proxy [-- --rounds 5 --seconds 10 --warmup 5 --connections 50 --only bankgate,fastify]
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Agent, request } from 'undici';
import { ACCOUNTS_BODY_BYTES, candidates, type Candidate } from './lib/candidates.js';
import { cpuMicros } from './lib/cpu.js';
import { repoRoot, type Started } from './lib/processes.js';
import { startUpstream } from './lib/setup.js';
import { ensureTools } from './lib/tools.js';
import { runWrk, type WrkResult } from './lib/wrk.js';

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '5' },
    seconds: { type: 'string', default: '10' },
    warmup: { type: 'string', default: '5' },
    connections: { type: 'string', default: '50' },
    only: { type: 'string' },
    out: { type: 'string', default: join(repoRoot, 'bench/results/proxy.json') },
  },
});
const rounds = Number(values.rounds);
const seconds = Number(values.seconds);
const connections = Number(values.connections);

const missing = ensureTools({ wrk: 'wrk', nginx: 'nginx' });
if (missing.includes('wrk')) process.exit(1);

export interface Sample extends WrkResult {
  readonly candidate: string;
  readonly round: number;
  /** CPU µs per request of the candidate's process (and children); null for `direct` (there is no proxy). */
  readonly cpuUsPerRequest: number | null;
  readonly upstreamCpuUsPerRequest: number;
}

const dir = mkdtempSync(join(tmpdir(), 'bankgate-bench-'));
const upstream = await startUpstream(dir);
const running: Array<{ candidate: Candidate; started: Started | undefined; url: string }> = [];
try {
  const wanted = values.only?.split(',');
  for (const candidate of candidates) {
    if (wanted && !wanted.includes(candidate.name)) continue;
    if (candidate.name === 'nginx' && missing.includes('nginx')) {
      console.log('nginx: skipped (not installed)');
      continue;
    }
    const { started, url } = await candidate.start(upstream, join(dir, candidate.name));
    await check(candidate, url);
    running.push({ candidate, started, url });
    console.log(`${candidate.name}: ready at ${url}${started ? ` (pid ${started.pid})` : ''}`);
  }

  const measure = async (entry: (typeof running)[number], round: number, duration: number): Promise<Sample> => {
    const pid = entry.started?.pid;
    const cpu0 = pid ? cpuMicros(pid) : 0;
    const up0 = cpuMicros(upstream.process.pid);
    const result = await runWrk({ url: entry.url, headers: entry.candidate.headers, connections, threads: 2, seconds: duration });
    const cpu = pid ? (cpuMicros(pid) - cpu0) / result.requests : null;
    const upstreamCpu = (cpuMicros(upstream.process.pid) - up0) / result.requests;
    if (result.errors > 0) throw new Error(`${entry.candidate.name}: ${result.errors} failed requests in round ${round}`);
    return { candidate: entry.candidate.name, round, ...result, cpuUsPerRequest: cpu === null ? null : Math.round(cpu), upstreamCpuUsPerRequest: Math.round(upstreamCpu) };
  };

  console.log(`warm-up: ${values.warmup} s each`);
  for (const entry of running) await measure(entry, 0, Number(values.warmup));
  const samples: Sample[] = [];
  for (let round = 1; round <= rounds; round++) {
    for (const entry of running) {
      const sample = await measure(entry, round, seconds);
      samples.push(sample);
      console.log(`round ${round} ${sample.candidate.padEnd(10)} ${sample.rps.toFixed(0).padStart(6)} req/s  p50 ${sample.p50Ms.toFixed(2)} ms  p99 ${sample.p99Ms.toFixed(2)} ms  cpu ${sample.cpuUsPerRequest ?? '-'} µs/req`);
    }
  }

  const result = {
    benchmark: 'proxy',
    date: new Date().toISOString(),
    node: process.version,
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model,
    wrk: { connections, threads: 2, seconds, rounds, warmupSeconds: Number(values.warmup) },
    upstreamBodyBytes: ACCOUNTS_BODY_BYTES,
    candidates: running.map((r) => ({ name: r.candidate.name, description: r.candidate.description })),
    samples,
  };
  mkdirSync(join(values.out, '..'), { recursive: true });
  writeFileSync(values.out, `${JSON.stringify(result, null, 2)}\n`);
  console.log(`written to ${values.out}`);
} finally {
  for (const r of running) await r.started?.stop();
  await upstream.process.stop();
  rmSync(dir, { recursive: true, force: true });
}

/** Before measuring: the candidate answers 200 with the upstream's body byte for byte (or with its links rewritten, as it says). */
async function check(candidate: Candidate, url: string): Promise<void> {
  const dispatcher = url.startsWith('https:') ? new Agent({ connect: { rejectUnauthorized: false } }) : undefined;
  const answer = await request(url, { headers: candidate.headers, ...(dispatcher ? { dispatcher } : {}) });
  const body = Buffer.from(await answer.body.arrayBuffer());
  if (answer.statusCode !== 200 || (candidate.expectedBody ? !body.equals(candidate.expectedBody) : body.length !== ACCOUNTS_BODY_BYTES)) throw new Error(`${candidate.name}: answered ${answer.statusCode} with ${body.length} bytes: ${body.toString().slice(0, 300)}`);
  await dispatcher?.close();
}

