#!/usr/bin/env tsx
/**
 * `npm run bench:storm`: a refresh storm against the real sandbox, three processes as in production: the
 * sandbox banks (`sandbox/main.ts`, oidc-provider as SEB's authorization server), the gateway
 * (`npm run gateway`'s entry, Node fast path, default encrypted file store) and this load generator. One SEB
 * connection with a short-lived access token (SANDBOX_ACCESS_TTL=2). Each round: 1,000 concurrent calls
 * while the token is fresh (the reference), then, once it has expired, 1,000 concurrent calls again (the
 * storm). The authorization server counts the token requests (`/__sandbox/stats`): exactly one
 * `refresh_token` grant per storm is the goal. Latency per call from the client, p50/p99 of each batch.
 * Writes bench/results/storm.json.
 *
 * Usage: npm run bench:storm [-- --calls 1000 --rounds 5]
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Agent, request } from 'undici';
import { consentHeadlessly } from '../sandbox/headless-consent.js';
import { readSandboxFile } from '../sandbox/sandbox-file.js';
import type { StatsSnapshot } from '../sandbox/stats.js';
import { startGatewayProcess } from '../test/vault/gateway-process.js';
import { NODE_TS, repoRoot, stopProcess } from './lib/processes.js';

const { values } = parseArgs({ options: { calls: { type: 'string', default: '1000' }, rounds: { type: 'string', default: '5' } } });
const CALLS = Number(values.calls);
// Short enough that no pause between batches outlives keep-alive (undici closes idle sockets ~3 s after the
// server's 5 s hint): both batches then start from warm connections and differ only by the refresh.
const TTL_SECONDS = 2;
const DEV_KEY = 'storm-dev-key-0123456789abcdef';
const PSU_IP = '203.0.113.7';

const dir = mkdtempSync(join(tmpdir(), 'bankgate-storm-'));
const sandboxChild = spawn('node', [...NODE_TS, join(repoRoot, 'sandbox/main.ts')], { cwd: repoRoot, env: { ...process.env, BANKGATE_SANDBOX_DIR: dir, SANDBOX_ACCESS_TTL: String(TTL_SECONDS) }, stdio: ['ignore', 'pipe', 'ignore'] });
const sandboxPath = await new Promise<string>((resolve, reject) => {
  let out = '';
  sandboxChild.stdout!.on('data', (chunk: Buffer) => {
    out += chunk.toString();
    const path = /^sandbox file\s+(\S+)/m.exec(out)?.[1];
    if (path && /^control/m.test(out)) resolve(path);
  });
  sandboxChild.once('exit', (code) => reject(new Error(`sandbox exited with ${code}`)));
});
sandboxChild.stdout!.resume();
const sandbox = readSandboxFile(sandboxPath);
const gateway = await startGatewayProcess({
  env: { BANKGATE_SANDBOX_FILE: sandboxPath, BANKGATE_DEV_KEY: DEV_KEY, BANKGATE_STORE: `file:${join(dir, 'tokens')}`, BANKGATE_STORE_KEY: randomBytes(32).toString('base64') },
});
const client = new Agent({ connections: CALLS, keepAliveTimeout: 60_000 });
const headers = { authorization: `Bearer ${DEV_KEY}`, 'x-connection-id': 'storm', 'psu-ip-address': PSU_IP };

async function call(): Promise<number> {
  const started = performance.now();
  const answer = await request(`${gateway.url}/seb/ais/accounts`, { headers, dispatcher: client });
  await answer.body.arrayBuffer();
  if (answer.statusCode !== 200) throw new Error(`a call answered ${answer.statusCode}`);
  return performance.now() - started;
}
/** CALLS calls at once: the latency of each, ms, sorted. */
const batch = async () => (await Promise.all(Array.from({ length: CALLS }, call))).sort((a, b) => a - b);
const pct = (sorted: number[], p: number) => +sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!.toFixed(1);
const refreshes = async () => ((await (await fetch(sandbox.statsUrl)).json()) as StatsSnapshot).banks.seb.tokenRequests.refresh_token ?? 0;
/**
 * Waits until the connection's access token has expired and no refresh is on its way: a call near the end
 * of the token's life starts a background refresh, which may land after the expiry time read here, so the
 * expiry is read again after a pause and the wait repeats until it no longer moves.
 */
async function waitForExpiry(): Promise<void> {
  const expiry = async () => Date.parse(((await (await fetch(`${gateway.url}/connections/storm`, { headers })).json()) as { accessTokenExpiresAt: string }).accessTokenExpiresAt);
  for (;;) {
    const at = await expiry();
    const left = at - Date.now();
    if (left < -100) {
      await new Promise((r) => setTimeout(r, 300));
      if ((await expiry()) === at) return;
      continue;
    }
    await new Promise((r) => setTimeout(r, left + 150));
  }
}

const rounds: Array<Record<string, number>> = [];
try {
  const created = (await (await fetch(`${gateway.url}/connections`, { method: 'POST', headers: { ...headers, 'content-type': 'application/json' }, body: JSON.stringify({ bank: 'seb', connectionId: 'storm' }) })).json()) as { authorizeUrl: string };
  const { callbackUrl } = await consentHeadlessly(created.authorizeUrl, { ca: readFileSync(sandbox.caFile, 'utf8'), psuId: sandbox.banks.seb.psuIds[0]! });
  if ((await fetch(callbackUrl)).status !== 200) throw new Error('consent failed');
  await batch(); // warm-up: 1,000 sockets open, code compiled
  for (let round = 1; round <= Number(values.rounds); round++) {
    await waitForExpiry();
    await call(); // one call refreshes: the token is fresh for the reference batch
    const fresh = await batch();
    await waitForExpiry();
    const before = await refreshes();
    const storm = await batch(); // every call finds the token expired
    const tokenRequests = (await refreshes()) - before;
    // The gateway logs how long the refresh took (token.refreshed, ms): what every storm call waited for.
    const refreshLine = gateway.lines.filter((line) => line.includes('"token.refreshed"')).at(-1);
    const refreshMs = refreshLine ? (JSON.parse(refreshLine) as { ms: number }).ms : NaN;
    rounds.push({ round, tokenRequests, refreshMs, freshP50Ms: pct(fresh, 50), freshP99Ms: pct(fresh, 99), stormP50Ms: pct(storm, 50), stormP99Ms: pct(storm, 99), p99AboveFreshMs: +(pct(storm, 99) - pct(fresh, 99)).toFixed(1) });
    console.log(JSON.stringify(rounds.at(-1)));
  }
} finally {
  await client.close();
  await gateway.kill('SIGTERM');
  await stopProcess(sandboxChild);
  rmSync(dir, { recursive: true, force: true });
}

const out = join(repoRoot, 'bench/results/storm.json');
mkdirSync(join(out, '..'), { recursive: true });
writeFileSync(out, `${JSON.stringify({ benchmark: 'refresh-storm', date: new Date().toISOString(), node: process.version, calls: CALLS, accessTtlSeconds: TTL_SECONDS, bank: 'seb (sandbox: oidc-provider, refresh_token grant, client_secret_post)', store: 'default encrypted file store', rounds }, null, 2)}\n`);
console.log(`written to ${out}`);
