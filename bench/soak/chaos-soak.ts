/**
 * The chaos soak of issue 15 (item 5): 3 gateway replicas (real processes) on one Redis (append-only file),
 * in front of the SG-like sandbox (2 s access tokens, refresh tokens rotated on every use, a rotated one
 * presented again counted as a double refresh and revoking the grant), 200 connections under steady load,
 * while at random moments a replica is killed (kill -9) and restarted, Redis is killed (kill -9) and
 * restarted from its append-only file, token responses are dropped, delayed or refused with 503, and the
 * bank answers resource calls with 5xx. Bounded: it stops by itself. Not part of `npm test`.
 *
 *   npx tsx bench/soak/chaos-soak.ts [--seconds 150] [--connections 200] [--workers 12] [--seed 1]
 *
 * Writes bench/soak/report.json and bench/soak/report.md: calls, answers by status (and problem code),
 * refreshes at the bank, double refreshes, every fault injected, and the connections that ended
 * `reconsent_required`, each with its reason.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { startSandbox } from '../../sandbox/index.js';
import type { StatsSnapshot } from '../../sandbox/stats.js';
import { startGatewayProcess, type GatewayProcess } from '../../test/vault/gateway-process.js';
import { freePort, startRedis, type RedisServer } from '../../test/vault/redis-server.js';
import { connectThrough, DEV_KEY, sleep, STORE_KEY } from '../../test/vault/vault-harness.js';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '150' },
    connections: { type: 'string', default: '200' },
    workers: { type: 'string', default: '12' },
    seed: { type: 'string', default: String(Date.now() % 100_000) },
  },
});
const SECONDS = Number(values.seconds);
const CONNECTIONS = Number(values.connections);
const WORKERS = Number(values.workers);
const SEED = Number(values.seed);
const ACCESS_TTL_SECONDS = 2;
const LOCK_TTL_SECONDS = 5;
const OUT = new URL('.', import.meta.url).pathname;

// A small deterministic generator (mulberry32), so that a run can be repeated with --seed.
let state = SEED >>> 0;
const random = () => {
  state = (state + 0x6d2b79f5) >>> 0;
  let t = state;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
};
const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)]!;
const between = (min: number, max: number) => Math.round(min + random() * (max - min));

const started = Date.now();
const elapsed = () => ((Date.now() - started) / 1000).toFixed(1);
const say = (line: string) => process.stdout.write(`[${elapsed()} s] ${line}\n`);

const dir = mkdtempSync(join(tmpdir(), 'bankgate-soak-'));
const sandbox = await startSandbox({ dir, accessTtlSeconds: ACCESS_TTL_SECONDS });
const redisDir = join(dir, 'redis');
mkdirSync(redisDir);
let redis: RedisServer = await startRedis({ persistDir: redisDir });
const redisPort = redis.port;
let redisUp = true;

interface Replica {
  readonly index: number;
  readonly port: number;
  process?: GatewayProcess;
  /** Every log line of every life of this replica. */
  readonly lines: string[];
}
const replicaEnv = (index: number) => ({
  BANKGATE_STORE: redis.url,
  BANKGATE_STORE_KEY: STORE_KEY,
  BANKGATE_DEV_KEY: DEV_KEY,
  BANKGATE_SANDBOX_FILE: sandbox.filePath,
  BANKGATE_TEST_LOCK_TTL_SECONDS: String(LOCK_TTL_SECONDS),
  // Each replica its own journal directory, the same across its restarts.
  BANKGATE_JOURNAL: join(dir, `journal-${index}`),
  BANKGATE_LOG_LEVEL: 'info',
});
const replicas: Replica[] = [];
for (const index of [0, 1, 2]) replicas.push({ index, port: await freePort(), lines: [] });
async function startReplica(replica: Replica): Promise<void> {
  const process = await startGatewayProcess({ env: replicaEnv(replica.index), port: replica.port });
  replica.process = process;
  // The process's lines array is its own: keep every life's lines.
  const seen = { count: 0 };
  const copy = setInterval(() => {
    replica.lines.push(...process.lines.slice(seen.count));
    seen.count = process.lines.length;
  }, 500);
  copy.unref();
  (replica as { stopCopy?: () => void }).stopCopy = () => {
    replica.lines.push(...process.lines.slice(seen.count));
    seen.count = process.lines.length;
    clearInterval(copy);
  };
}
await Promise.all(replicas.map(startReplica));
say(`sandbox, Redis :${redisPort} (AOF) and 3 replicas up; seed ${SEED}`);

// 200 connections, consented through random replicas, a few at a time.
const ids = Array.from({ length: CONNECTIONS }, (_, i) => `soak-${String(i).padStart(3, '0')}`);
for (let i = 0; i < ids.length; i += 8) {
  await Promise.all(ids.slice(i, i + 8).map((id, j) => connectThrough(`http://127.0.0.1:${replicas[(i + j) % 3]!.port}`, sandbox.file, 'sg', id)));
}
say(`${ids.length} connections active`);
await fetch(sandbox.file.resetUrl, { method: 'POST' });

// --- load --------------------------------------------------------------------------------------------
const answers: Record<string, number> = {};
let calls = 0;
let loading = true;
const count = (key: string) => (answers[key] = (answers[key] ?? 0) + 1);
async function call(port: number, id: string): Promise<string> {
  try {
    const response = await fetch(`http://127.0.0.1:${port}/sg/aisp/accounts`, {
      headers: { authorization: `Bearer ${DEV_KEY}`, 'x-connection-id': id },
      signal: AbortSignal.timeout(30_000),
    });
    if (response.status === 200) {
      await response.body?.cancel();
      return '200';
    }
    const problem = (await response.json().catch(() => ({}))) as { code?: string };
    return `${response.status} ${problem.code ?? ''}`.trim();
  } catch (error) {
    // The replica was killed under the call (or the call hung past 30 s): no answer.
    return `no answer (${(error as Error).name === 'TimeoutError' ? 'timeout' : 'connection lost'})`;
  }
}
async function worker(): Promise<void> {
  while (loading) {
    const live = replicas.filter((r) => r.process);
    if (live.length === 0) {
      await sleep(100);
      continue;
    }
    calls++;
    const answer = await call(pick(live).port, pick(ids));
    count(answer);
    // A client backs off a moment after a failure (a 503 from a store outage comes back in microseconds).
    if (answer !== '200') await sleep(100);
  }
}
const workers = Array.from({ length: WORKERS }, worker);

// --- chaos -------------------------------------------------------------------------------------------
const faults: Array<{ at: string; ms: number; what: string }> = [];
const fault = (what: string) => {
  faults.push({ at: elapsed(), ms: Date.now(), what });
  say(what);
};
const arm = (rules: unknown[]) => fetch(`${sandbox.file.controlUrl}/faults`, { method: 'POST', body: JSON.stringify(rules) });
const background: Promise<unknown>[] = [];

async function killReplica(): Promise<void> {
  const replica = pick(replicas.filter((r) => r.process));
  if (!replica || replicas.filter((r) => r.process).length < 2) return;
  const process = replica.process!;
  replica.process = undefined;
  await process.kill('SIGKILL');
  (replica as { stopCopy?: () => void }).stopCopy?.();
  const down = between(1500, 5000);
  fault(`replica ${replica.index} kill -9, restarted in ${down} ms`);
  background.push(sleep(down).then(() => startReplica(replica)));
}
async function killRedis(): Promise<void> {
  if (!redisUp) return;
  redisUp = false;
  await redis.stop();
  const down = between(2000, 8000);
  fault(`Redis kill -9, restarted from its AOF in ${down} ms`);
  background.push(
    sleep(down).then(async () => {
      redis = await startRedis({ port: redisPort, persistDir: redisDir });
      redisUp = true;
    }),
  );
}
async function tokenFault(): Promise<void> {
  const action = pick(['drop-response', 'delay', 'delay', 'status', 'close'] as const);
  const times = between(1, 3);
  const delayMs = between(1000, 4000);
  await arm([{ bank: 'sg', target: 'token', action, grantType: 'refresh_token', times, ...(action === 'delay' ? { delayMs } : {}), ...(action === 'status' ? { status: pick([500, 502, 503]) } : {}) }]);
  fault(`token endpoint: ${action}${action === 'delay' ? ` ${delayMs} ms` : ''} × ${times} refreshes`);
}
async function bankFault(): Promise<void> {
  const status = pick([500, 502, 503, 504]);
  const times = between(5, 30);
  await arm([{ bank: 'sg', target: 'resource', action: 'status', status, times }]);
  fault(`bank: HTTP ${status} × ${times} resource calls`);
}

const deadline = Date.now() + SECONDS * 1000;
while (Date.now() < deadline) {
  await sleep(between(3000, 9000));
  if (Date.now() >= deadline) break;
  await pick([killReplica, killReplica, killRedis, tokenFault, tokenFault, bankFault])();
}
loading = false;
await Promise.all(workers);
await Promise.all(background);
await fetch(`${sandbox.file.controlUrl}/faults`, { method: 'DELETE' });
say(`load stopped after ${calls} calls; letting every replica and Redis settle`);
await sleep(LOCK_TTL_SECONDS * 1000 + 2000);

// --- the outcome ---------------------------------------------------------------------------------------
const stats = (await (await fetch(sandbox.file.statsUrl)).json()) as StatsSnapshot;
const final: Record<string, number> = {};
const lost: Array<{ id: string; reason: string; markedBy?: number; markedAt?: string; faultsBefore?: string[]; cause?: string }> = [];
const probe = replicas.find((r) => r.process)!;
for (const id of ids) {
  // One more call first: a connection whose token set only a journal holds, or that needs a refresh, shows it.
  const answer = await call(probe.port, id);
  final[answer] = (final[answer] ?? 0) + 1;
  const view = (await (await fetch(`http://127.0.0.1:${probe.port}/connections/${id}`, { headers: { authorization: `Bearer ${DEV_KEY}` } })).json()) as { status: string; reason?: { code: string; detail: string } };
  if (view.status !== 'active') lost.push({ id, reason: `${view.status}: ${view.reason?.detail ?? '(no reason)'}` });
}
for (const replica of replicas) (replica as { stopCopy?: () => void }).stopCopy?.();
const allLines = replicas.flatMap((r) => r.lines.map((line) => ({ replica: r.index, line })));
const events = (name: string) => allLines.filter(({ line }) => line.includes(`"${name}"`)).length;
// Why each connection was lost: when and where it was marked, and what the chaos did in the 10 s before.
for (const loss of lost) {
  const marked = allLines
    .filter(({ line }) => line.includes('"connection.reconsent_required"') && line.includes(`"connectionId":"${loss.id}"`))
    .map(({ replica, line }) => ({ replica, time: Date.parse((JSON.parse(line) as { time: string }).time) }))
    .sort((a, b) => a.time - b.time)[0];
  if (!marked) continue;
  loss.markedBy = marked.replica;
  loss.markedAt = ((marked.time - started) / 1000).toFixed(1);
  loss.faultsBefore = faults.filter((f) => f.ms <= marked.time && f.ms >= marked.time - 10_000).map((f) => `${f.at} s ${f.what}`);
  loss.cause = /no answer and the retry was refused/.test(loss.reason)
    ? 'a token response lost after the bank rotated (fault): the retry presented the rotated token (a double refresh)'
    : /HTTP 5\d\d, then HTTP 5\d\d/.test(loss.reason)
      ? 'the token endpoint answered 5xx twice in a row (bank fault): the design marks that reconsent_required'
      : loss.faultsBefore.some((f) => /replica \d kill/.test(f))
        ? 'most likely a replica killed between the bank rotating the refresh token and the store write: the new set died with the process, the next refresh presented the rotated one (a double refresh)'
        : 'not attributed';
}
const sg = stats.banks.sg;
const report = {
  when: new Date().toISOString(),
  seed: SEED,
  seconds: SECONDS,
  connections: CONNECTIONS,
  workers: WORKERS,
  accessTtlSeconds: ACCESS_TTL_SECONDS,
  lockTtlSeconds: LOCK_TTL_SECONDS,
  calls,
  answers: Object.fromEntries(Object.entries(answers).sort(([, a], [, b]) => b - a)),
  bank: { refreshes: sg.tokenRequests.refresh_token, tokenErrors: sg.tokenErrors, doubleRefreshes: sg.doubleRefreshes, resourceCalls: sg.resourceCalls },
  gatewayEvents: {
    journaled: events('token.journaled'),
    journalReplayed: events('token.journal_replayed'),
    persistFailed: events('token.persist_failed'),
    refreshOutcomeUnknown: events('token.refresh_outcome_unknown'),
    reconsentRequired: events('connection.reconsent_required'),
  },
  faults,
  finalCallAnswers: final,
  endedNotActive: lost,
};
writeFileSync(join(OUT, 'report.json'), `${JSON.stringify(report, null, 2)}\n`);
writeFileSync(join(OUT, 'report.md'), markdown(report));
say(`report written: ${lost.length} connections not active, ${sg.doubleRefreshes} double refreshes`);

await Promise.all(replicas.map((r) => r.process?.kill('SIGKILL')));
await redis.stop();
await sandbox.stop();
rmSync(dir, { recursive: true, force: true });
process.exit(0);

function markdown(r: typeof report): string {
  const rows = (record: Record<string, number>) =>
    Object.entries(record)
      .map(([key, value]) => `| ${key} | ${value} |`)
      .join('\n');
  return `# Chaos soak (issue 15)

\`npx tsx bench/soak/chaos-soak.ts --seconds ${r.seconds} --connections ${r.connections} --workers ${r.workers} --seed ${r.seed}\`, ${r.when}.
3 replicas (processes) on Redis (AOF, fsync always), SG-like sandbox: ${r.accessTtlSeconds} s access tokens, refresh
tokens rotated on every use; refresh lock TTL ${r.lockTtlSeconds} s; ${r.workers} workers calling \`GET /sg/aisp/accounts\` on
random connections through random live replicas.

## Figures
| | |
|---|---|
| calls | ${r.calls} |
| refreshes at the bank | ${r.bank.refreshes} |
| double refreshes (a rotated refresh token presented again) | ${r.bank.doubleRefreshes} |
| token errors at the bank | ${JSON.stringify(r.bank.tokenErrors)} |
| connections not active at the end | ${r.endedNotActive.length} of ${r.connections} |
| token sets journaled (Redis away) / replayed | ${r.gatewayEvents.journaled} / ${r.gatewayEvents.journalReplayed} |
| token.persist_failed | ${r.gatewayEvents.persistFailed} |
| refresh outcomes unknown (lost answers, 5xx, timeouts) | ${r.gatewayEvents.refreshOutcomeUnknown} |

## Answers by status (during the chaos)
| answer | count |
|---|---|
${rows(r.answers)}

## One call per connection after the chaos
| answer | count |
|---|---|
${rows(r.finalCallAnswers)}

## Connections that ended not active
${r.endedNotActive.length === 0 ? 'None.' : r.endedNotActive.map((l) => `- ${l.id}: ${l.reason}${l.markedAt ? ` (marked at ${l.markedAt} s by replica ${l.markedBy}; chaos in the 10 s before: ${l.faultsBefore?.join('; ') || 'none'}). **Cause:** ${l.cause}` : ''}`).join('\n')}

## Faults injected
${r.faults.map((f) => `- ${f.at} s: ${f.what}`).join('\n')}
`;
}
