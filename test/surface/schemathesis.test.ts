/**
 * The surface document as a contract, fuzzed: schemathesis (PyPI, pinned in .cache/python by `npm test`) reads
 * `/openapi.json` of `npm start` (the built gateway in front of the sandbox banks), with a connection of each bank in
 * place, and runs every check it has (`--checks all`: no 5xx, statuses, content types, response schemas, requests
 * valid by the document accepted, invalid ones refused, undeclared methods answered 405, …).
 *
 * One kind of finding is the bank's, not the gateway's: a bank refusing a request its spec allows for a reason the
 * spec cannot state (an IBAN that is not the PSU's, an SCA approach it lacks). The gateway forwarded such a request
 * and passes the bank's 400 on as `bank_bad_request`: those are counted, listed, and tolerated; anything else fails.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../vault/redis-server.js';
import { consentHeadlessly } from '../../sandbox/headless-consent.js';
import type { SandboxFile } from '../../sandbox/sandbox-file.js';

const repoRoot = new URL('../../', import.meta.url).pathname;
const SCHEMATHESIS = join(repoRoot, '.cache', 'python', 'bin', 'schemathesis');
const DEV_KEY = 'schemathesis-dev-key-0123456789abcdef';

let dir: string;
let gateway: ChildProcess;
let output = '';
let base: string;


const call = (path: string, init: RequestInit = {}) => fetch(base + path, { ...init, headers: { authorization: `Bearer ${DEV_KEY}`, 'content-type': 'application/json', ...(init.headers as Record<string, string>) } });

async function connect(sandbox: SandboxFile, bank: 'seb' | 'sg', connectionId: string): Promise<void> {
  const created = await call('/connections', { method: 'POST', body: JSON.stringify({ bank, connectionId }) });
  expect(created.status).toBe(201);
  const { authorizeUrl } = (await created.json()) as { authorizeUrl: string };
  const { callbackUrl } = await consentHeadlessly(authorizeUrl, { ca: readFileSync(sandbox.caFile, 'utf8'), psuId: sandbox.banks[bank].psuIds[0]! });
  expect((await fetch(callbackUrl)).status).toBe(200);
}

/** The first account's id, so that the per-account operations reach the bank instead of answering 404. */
async function firstAccount(path: string, headers: Record<string, string>): Promise<string> {
  const answer = (await (await call(path, { headers })).json()) as { accounts: Array<{ resourceId: string }> };
  return answer.accounts[0]!.resourceId;
}

beforeAll(async () => {
  if (!existsSync(SCHEMATHESIS)) throw new Error(`${SCHEMATHESIS} is missing: \`npm test\` installs it (its pretest runs scripts/ensure-test-deps.mjs)`);
  dir = mkdtempSync(join(tmpdir(), 'bankgate-schemathesis-'));
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  // `npm start` as built (pretest builds dist/), in its own directory: its .bankgate/ is this run's.
  gateway = spawn(process.execPath, [join(repoRoot, 'dist', 'scripts', 'start.js')], {
    cwd: dir,
    env: { ...process.env, PORT: String(port), BANKGATE_DEV_KEY: DEV_KEY, BANKGATE_STORE: 'memory', BANKGATE_LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  gateway.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  gateway.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`npm start: not running after 60 s:\n${output}`)), 60_000);
    gateway.once('exit', (code) => reject(new Error(`npm start exited with ${code}:\n${output}`)));
    const check = setInterval(() => {
      if (!output.includes('bankgate is running at')) return;
      clearInterval(check);
      clearTimeout(timer);
      gateway.removeAllListeners('exit');
      resolve();
    }, 50);
  });
  const sandbox = JSON.parse(readFileSync(join(dir, '.bankgate', 'sandbox.json'), 'utf8')) as SandboxFile;
  await connect(sandbox, 'seb', 'st-seb');
  await connect(sandbox, 'sg', 'st-sg');
  const sebAccount = await firstAccount('/seb/ais/accounts', { 'x-connection-id': 'st-seb', 'psu-ip-address': '203.0.113.7' });
  const sgAccount = await firstAccount('/sg/aisp/accounts', { 'x-connection-id': 'st-sg' });
  // Every bank operation acts with its bank's connection; per-account operations on a real account.
  writeFileSync(
    join(dir, 'schemathesis.toml'),
    [
      `headers = { Authorization = "Bearer ${DEV_KEY}" }`,
      '[[operations]]',
      'include-path-regex = "^/seb/"',
      `parameters = { "X-Connection-Id" = "st-seb", "account-id" = "${sebAccount}" }`,
      '[[operations]]',
      'include-path-regex = "^/sg/"',
      `parameters = { "X-Connection-Id" = "st-sg", "accountResourceId" = "${sgAccount}" }`,
      '',
    ].join('\n'),
  );
}, 180_000);

afterAll(async () => {
  if (gateway && gateway.exitCode === null) {
    const exited = new Promise((resolve) => gateway.once('exit', resolve));
    gateway.kill('SIGTERM');
    await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 10_000))]);
    if (gateway.exitCode === null) gateway.kill('SIGKILL');
  }
  if (dir) rmSync(dir, { recursive: true, force: true });
}, 30_000);

interface Finding {
  readonly operation: string;
  readonly codes: string[];
  readonly answer: string;
}

/** The failing test cases of a schemathesis run, from its report: operation, failure codes, the answer's first line. */
function findingsOf(report: string): Finding[] {
  const findings: Finding[] = [];
  let operation = '';
  for (const block of report.split(/\n(?=_{3,} |\d+\. Test Case ID:)/)) {
    const header = /^_{3,} (.+?) _{3,}/.exec(block);
    if (header) {
      operation = header[1]!;
      continue;
    }
    if (!/^\d+\. Test Case ID:/.test(block)) continue;
    const codes = [...block.matchAll(/^- (ST\d+) /gm)].map((m) => m[1]!);
    const answer = /^\[\d+\][^\n]*\n\n\s*`([^\n]*)/m.exec(block)?.[1] ?? '';
    findings.push({ operation, codes, answer });
  }
  return findings;
}

describe('schemathesis against /openapi.json of npm start', () => {
  it('finds nothing of the gateway’s (--checks all)', { timeout: 900_000 }, async () => {
    const run = await new Promise<{ code: number; stdout: string }>((resolve) => {
      execFile(
        SCHEMATHESIS,
        // The bg bank (Berlin Group, consent branch) has no connection here yet: its operations are left out until one is made.
        ['run', `${base}/openapi.json`, '--exclude-path-regex', '^/bg/', '--checks', 'all', '--workers', '1', '--max-examples', '25', '--no-color', '--request-timeout', '30'],
        { cwd: dir, timeout: 840_000, maxBuffer: 64 * 1024 * 1024 },
        (error, stdout, stderr) => resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout: stdout + stderr }),
      );
    });
    const generated = Number(/(\d+) generated/.exec(run.stdout)?.[1] ?? 0);
    expect(generated, run.stdout.slice(-3000)).toBeGreaterThan(300);
    expect(run.stdout).toMatch(/Operations:\s+(\d+) selected/);
    const findings = findingsOf(run.stdout);
    // A run that failed says so with findings; one that failed without any is a broken run, not a clean one.
    if (run.code !== 0) expect(findings.length, run.stdout.slice(-3000)).toBeGreaterThan(0);
    const banks = findings.filter((f) => f.codes.every((code) => code === 'ST202') && f.answer.includes('"code":"bank_bad_request"'));
    const gateways = findings.filter((f) => !banks.includes(f));
    if (banks.length > 0) console.log(`schemathesis: ${banks.length} schema-valid request(s) refused by the bank itself (tolerated): ${banks.map((f) => f.operation).join('; ')}`);
    expect(gateways.map((f) => `${f.operation}: ${f.codes.join(',')} ${f.answer.slice(0, 300)}`), run.stdout.slice(-6000)).toEqual([]);
  });
});
