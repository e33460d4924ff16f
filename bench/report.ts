#!/usr/bin/env tsx
/**
 * `npm run bench:report`: turns bench/results/*.json into bench/results/proxy.svg (the chart) and the tables
 * of bench/README.md (between the `results:start` / `results:end` markers). Medians over the rounds; the
 * chart's whiskers span the rounds, so drift shows.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { renderBars } from './lib/svg-bars.js';
import { repoRoot } from './lib/processes.js';

const results = join(repoRoot, 'bench/results');
const read = <T>(name: string): T | undefined => (existsSync(join(results, name)) ? (JSON.parse(readFileSync(join(results, name), 'utf8')) as T) : undefined);

interface ProxySample { candidate: string; round: number; rps: number; p50Ms: number; p99Ms: number; cpuUsPerRequest: number | null; upstreamCpuUsPerRequest: number }
interface ProxyResult { date: string; node: string; cpus: number; cpuModel?: string; wrk: { connections: number; threads: number; seconds: number; rounds: number; warmupSeconds: number }; upstreamBodyBytes: number; candidates: { name: string; description: string }[]; samples: ProxySample[] }

const median = (xs: number[]) => {
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};
const fmt = (n: number | null | undefined, digits = 0) => (n === null || n === undefined || Number.isNaN(n) ? '–' : n.toFixed(digits));
const ratio = (a: number | null | undefined, b: number | null | undefined) => (a == null || b == null || b === 0 ? '–' : `${(a / b).toFixed(2)}×`);

const sections: string[] = [];
const proxy = read<ProxyResult>('proxy.json');
if (proxy) {
  const rows = proxy.candidates.map(({ name, description }) => {
    const mine = proxy.samples.filter((s) => s.candidate === name);
    const cpu = mine.map((s) => s.cpuUsPerRequest).filter((c): c is number => c !== null);
    return {
      name,
      description,
      rps: median(mine.map((s) => s.rps)),
      rpsMin: Math.min(...mine.map((s) => s.rps)),
      rpsMax: Math.max(...mine.map((s) => s.rps)),
      p50: median(mine.map((s) => s.p50Ms)),
      p99: median(mine.map((s) => s.p99Ms)),
      cpu: cpu.length ? median(cpu) : null,
      cpuMin: cpu.length ? Math.min(...cpu) : null,
      cpuMax: cpu.length ? Math.max(...cpu) : null,
    };
  });
  const nginx = rows.find((r) => r.name === 'nginx');
  const fastify = rows.find((r) => r.name === 'fastify');
  const table = [
    '| candidate | req/s | p50 ms | p99 ms | CPU µs/req | req/s vs nginx | req/s vs fastify | p99 vs nginx | p99 vs fastify | CPU vs nginx | CPU vs fastify |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
    ...rows.map((r) => `| ${r.name} | ${fmt(r.rps)} | ${fmt(r.p50, 2)} | ${fmt(r.p99, 2)} | ${fmt(r.cpu)} | ${ratio(r.rps, nginx?.rps)} | ${ratio(r.rps, fastify?.rps)} | ${ratio(r.p99, nginx?.p99)} | ${ratio(r.p99, fastify?.p99)} | ${ratio(r.cpu, nginx?.cpu)} | ${ratio(r.cpu, fastify?.cpu)} |`),
  ];
  const perRound = [
    '| round | ' + rows.map((r) => r.name).join(' | ') + ' |',
    '|---|' + rows.map(() => '---:').join('|') + '|',
    ...[...new Set(proxy.samples.map((s) => s.round))].map((round) => `| ${round} | ` + rows.map((r) => {
      const s = proxy.samples.find((x) => x.round === round && x.candidate === r.name);
      return s ? `${fmt(s.rps)} req/s, p99 ${fmt(s.p99Ms, 2)} ms, ${fmt(s.cpuUsPerRequest)} µs` : '–';
    }).join(' | ') + ' |'),
  ];
  sections.push(
    `### Forwarding: ${proxy.date.slice(0, 10)}, node ${proxy.node}, ${proxy.cpus} CPUs${proxy.cpuModel ? ` (${proxy.cpuModel.trim()})` : ''}`,
    `wrk ${proxy.wrk.threads} threads, ${proxy.wrk.connections} connections, ${proxy.wrk.rounds} interleaved rounds of ${proxy.wrk.seconds} s after a ${proxy.wrk.warmupSeconds} s warm-up each; upstream answers ${proxy.upstreamBodyBytes} B of JSON over mTLS. Medians over the rounds; CPU is the candidate process's (and its children's) user+system time per request.`,
    '',
    ...table,
    '',
    '![req/s and CPU per request](results/proxy.svg)',
    '',
    'Every round (drift shows here):',
    '',
    ...perRound,
    '',
  );
  const svg = renderBars([
    { title: 'requests per second (higher is better)', unit: 'req/s', bars: rows.map((r) => ({ label: r.name, value: r.rps, min: r.rpsMin, max: r.rpsMax, highlight: r.name === 'bankgate' })) },
    { title: 'CPU µs per request of the proxy process (lower is better)', unit: 'µs', bars: rows.filter((r) => r.cpu !== null).map((r) => ({ label: r.name, value: r.cpu!, min: r.cpuMin!, max: r.cpuMax!, highlight: r.name === 'bankgate' })) },
  ]);
  writeFileSync(join(results, 'proxy.svg'), svg);
}

const storm = read<{ calls: number; accessTtlSeconds: number; rounds: Array<{ round: number; tokenRequests: number; refreshMs?: number; freshP50Ms: number; freshP99Ms: number; stormP50Ms: number; stormP99Ms: number; p99AboveFreshMs: number }> }>('storm.json');
if (storm) {
  sections.push(
    `### Refresh storm: ${storm.calls} concurrent calls on an expired token (sandbox SEB, access tokens of ${storm.accessTtlSeconds} s)`,
    '',
    'Three processes: sandbox banks, gateway (Node fast path, default file store, logs at info), load generator. Each round: 1,000 concurrent calls with a fresh token, then 1,000 once it has expired. "refresh" is how long the one refresh took (the gateway\'s `token.refreshed` line): all the storm waits for; the rest of the difference is the sandbox bank answering 1,000 calls at once, which varies by ±100 ms from batch to batch.',
    '',
    '| round | token requests at the AS | refresh ms | fresh p50 ms | fresh p99 ms | storm p50 ms | storm p99 ms | storm p99 − fresh p99 |',
    '|---:|---:|---:|---:|---:|---:|---:|---:|',
    ...storm.rounds.map((r) => `| ${r.round} | ${r.tokenRequests} | ${r.refreshMs ?? '–'} | ${r.freshP50Ms} | ${r.freshP99Ms} | ${r.stormP50Ms} | ${r.stormP99Ms} | ${r.p99AboveFreshMs} ms |`),
    '',
  );
}

const store = read<Record<string, number | string>>('token-store.json');
if (store) {
  const perConnection = (mib: unknown) => (typeof mib === 'number' ? `${Math.round((mib * 1024 * 1024) / 100_000)} B/connection` : '–');
  sections.push(
    '### Token store',
    '',
    '| measure | value |',
    '|---|---:|',
    `| lookup, default (encrypted file) store | ${store['lookup/file µs']} µs |`,
    `| lookup, Redis, 1 in flight | ${store['lookup/redis µs (1 in flight)']} µs |`,
    `| lookup, Redis, 50 in flight (per lookup) | ${store['lookup/redis µs per lookup (50 in flight)']} µs |`,
    `| memory per 100,000 connections, default store (heap) | ${store['memory/file MiB per 100k']} MiB (${perConnection(store['memory/file MiB per 100k'])}) |`,
    `| memory per 100,000 connections, Redis (used_memory) | ${store['memory/redis MiB per 100k']} MiB (${perConnection(store['memory/redis MiB per 100k'])}) |`,
    '',
  );
}

/** ` (load average 9.3 → 9.6 on 2 cores: …)` when the run recorded it. */
function loadNote(machine: { cores: number; loadAverage: number[] } | undefined): string {
  if (!machine) return '';
  const [before, after] = machine.loadAverage;
  const busy = Math.max(before ?? 0, after ?? 0) > machine.cores;
  return ` (load average ${before} → ${after} on ${machine.cores} cores${busy ? ': a busy machine, wall times inflated; the CPU column is not' : ''})`;
}

const startup = read<{ medianReadyMs: number; medianFirstCallMs: number; samples: unknown[]; variants?: Array<{ name: string; what: string; medianReadyMs: number; medianFirstCallMs: number; medianCpuMs: number; samples: unknown[] }> }>('startup.json');
if (startup) sections.push('### Start-up', '', `bench/gateway-under-test, spawn to first bank call served: median **${startup.medianFirstCallMs} ms** (ready line after ${startup.medianReadyMs} ms; ${startup.samples.length} runs).`, '');
if (startup?.variants) {
  sections.push(
    `Built JavaScript against tsx, Node ${(startup as { node?: string }).node ?? '?'}, runs interleaved${loadNote((startup as { machine?: { cores: number; loadAverage: number[] } }).machine)}:`,
    '',
    '| started as | first call served (median ms) | ready line (median ms) | CPU of the process at the first call (median ms) | runs |',
    '|---|---:|---:|---:|---:|',
    ...startup.variants.map((v) => `| ${v.name}: ${v.what} | ${v.medianFirstCallMs} | ${v.medianReadyMs} | ${v.medianCpuMs} | ${v.samples.length} |`),
    '',
  );
}

const generate = read<{ cases: Array<{ name: string; specBytes: number; medianMs: number }> }>('generate.json');
if (generate) {
  sections.push('### Code generation', '', '| case | spec bytes | median ms |', '|---|---:|---:|', ...generate.cases.map((c) => `| ${c.name} | ${c.specBytes} | ${c.medianMs} |`), '');
}

// The issue's targets, judged from the numbers above.
{
  const targets: string[] = [];
  const mark = (ok: boolean | undefined) => (ok === undefined ? 'not measured' : ok ? '**met**' : '**not met**');
  if (proxy) {
    const med = (name: string, pick: (s: ProxySample) => number | null) => {
      const xs = proxy.samples.filter((s) => s.candidate === name).map(pick).filter((x): x is number => x !== null);
      return xs.length ? median(xs) : undefined;
    };
    const [rps, frps, p99, fp99, cpu] = [med('bankgate', (s) => s.rps), med('fastify', (s) => s.rps), med('bankgate', (s) => s.p99Ms), med('fastify', (s) => s.p99Ms), med('bankgate', (s) => s.cpuUsPerRequest)];
    if (rps !== undefined && frps !== undefined) targets.push(`| bankgate ≥ 1.2× @fastify/http-proxy req/s | ${(rps / frps).toFixed(2)}× | ${mark(rps >= 1.2 * frps)} |`);
    if (p99 !== undefined && fp99 !== undefined) targets.push(`| bankgate p99 ≤ @fastify/http-proxy p99 | ${p99.toFixed(2)} ms vs ${fp99.toFixed(2)} ms | ${mark(p99 <= fp99)} |`);
    if (cpu !== undefined) targets.push(`| CPU ≤ 160 µs per request | ${cpu.toFixed(0)} µs | ${mark(cpu <= 160)} |`);
  }
  if (storm) {
    const one = storm.rounds.every((r) => r.tokenRequests === 1);
    const above = storm.rounds.map((r) => r.p99AboveFreshMs);
    const typical = median(above);
    targets.push(`| refresh storm: exactly one token request | ${storm.rounds.map((r) => r.tokenRequests).join(', ')} | ${mark(one)} |`);
    targets.push(`| refresh storm: p99 ≤ fresh p99 + 100 ms | median ${typical.toFixed(0)} ms above (rounds: ${above.map((a) => a.toFixed(0)).join(', ')}) | ${mark(typical <= 100)}${Math.max(...above) > 100 ? ' (median; not in every round)' : ''} |`);
  }
  if (store) {
    const lookup = Number(store['lookup/file µs']);
    const bytes = (Number(store['memory/file MiB per 100k']) * 1024 * 1024) / 100_000;
    targets.push(`| token lookup ≤ 10 µs (default store) | ${lookup} µs | ${mark(lookup <= 10)} |`);
    targets.push(`| memory ≤ 1 KiB per stored connection | ${Math.round(bytes)} B | ${mark(bytes <= 1024)} |`);
  }
  if (targets.length > 0) sections.unshift('### Targets (issue 7)', '', '| target | measured | |', '|---|---:|---|', ...targets, '');
}

const readme = join(repoRoot, 'bench/README.md');
const text = readFileSync(readme, 'utf8');
const start = '<!-- results:start -->';
const end = '<!-- results:end -->';
if (!text.includes(start) || !text.includes(end)) throw new Error('bench/README.md lacks the results markers');
writeFileSync(readme, `${text.slice(0, text.indexOf(start) + start.length)}\n${sections.join('\n')}\n${text.slice(text.indexOf(end))}`);
console.log('bench/README.md and bench/results/proxy.svg updated');
