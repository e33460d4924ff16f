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
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../vault/redis-server.js';
import { run } from '../package/project.js';
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

/** `bankgate connect` as an operator runs it (dist/scripts/connect.js), against this gateway and sandbox. */
async function connectWithCommand(bank: string, connectionId: string): Promise<void> {
  const result = await run(process.execPath, [join(repoRoot, 'dist', 'scripts', 'connect.js'), '--bank', bank, '--connection', connectionId], dir, { ...process.env, BANKGATE_URL: base, BANKGATE_DEV_KEY: DEV_KEY }, 60_000);
  expect(result.code, result.stdout + result.stderr).toBe(0);
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
  // bg (Berlin Group: a consent resource first, then the SCA approach the bank picks) through the operator's command.
  await connectWithCommand('bg', 'st-bg');
  // ukob (UK Open Banking, FAPI 2.0: an account-access intent, then PAR and the PSU's authorisation bound to it).
  await connectWithCommand('ukob', 'st-ukob');
  const sebAccount = await firstAccount('/seb/ais/accounts', { 'x-connection-id': 'st-seb', 'psu-ip-address': '203.0.113.7' });
  const sgAccount = await firstAccount('/sg/aisp/accounts', { 'x-connection-id': 'st-sg' });
  const bgAccount = await firstAccount('/bg/xs2a/v1/accounts', { 'x-connection-id': 'st-bg', 'psu-ip-address': '203.0.113.7' });
  const ukobAccounts = (await (await call('/ukob/aisp/accounts', { headers: { 'x-connection-id': 'st-ukob' } })).json()) as { Data: { Account: Array<{ AccountId: string }> } };
  const ukobAccount = ukobAccounts.Data.Account[0]!.AccountId;
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
      '[[operations]]',
      'include-path-regex = "^/bg/"',
      `parameters = { "X-Connection-Id" = "st-bg", "account-id" = "${bgAccount}" }`,
      '[[operations]]',
      'include-path-regex = "^/ukob/"',
      `parameters = { "X-Connection-Id" = "st-ukob", "AccountId" = "${ukobAccount}" }`,
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
  /** The request's headers, from the report's `curl` reproduction. */
  readonly headers: Readonly<Record<string, string>>;
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
    const curl = /^\s*curl .*$/m.exec(block)?.[0] ?? '';
    const headers = Object.fromEntries([...curl.matchAll(/-H '([^:';]+)(?::\s?([^']*)|;)'/g)].map((m) => [m[1]!.toLowerCase(), m[2] ?? '']));
    findings.push({ operation, codes, answer, headers });
  }
  return findings;
}

/**
 * The bank refused a request its spec allows, for a reason the spec cannot state: a 400 (`bank_bad_request`), a
 * Berlin Group bank's 405 `SERVICE_INVALID` for a service it does not offer (card accounts, signing baskets), or a 415
 * for a body type the spec lists and the bank does not take (pain.001 XML, multipart).
 */
function refusedByBank(answer: string): boolean {
  return answer.includes('"code":"bank_bad_request"') || /"status":(405|415),"code":"bank_client_error"/.test(answer);
}

/**
 * schemathesis's coverage phase sends some optional headers with a value that does not match their documented
 * `pattern` (`PSU-Geo-Location: 0` against `GEO:…`) and calls the request schema-valid. The gateway refused it naming
 * that header and pattern: checked here with the pattern itself, so only a real mismatch is set aside.
 */
function headerBreaksItsPattern(finding: Finding): boolean {
  if (!finding.answer.includes('"code":"bad_request"')) return false;
  const refusal = /header\.([A-Za-z0-9-]+) must match pattern \\"(.+?)\\""/.exec(finding.answer);
  if (!refusal) return false;
  const value = finding.headers[refusal[1]!.toLowerCase()];
  const pattern = refusal[2]!.replace(/\\\\/g, '\\');
  return value !== undefined && !new RegExp(pattern, 'u').test(value);
}

describe('schemathesis against /openapi.json of npm start', () => {
  it('finds nothing of the gateway’s (--checks all)', { timeout: 900_000 }, async () => {
    const answered = await run(SCHEMATHESIS, ['run', `${base}/openapi.json`, '--checks', 'all', '--workers', '1', '--max-examples', '25', '--no-color', '--request-timeout', '30'], dir, process.env, 840_000);
    const schemathesis = { code: answered.code, stdout: answered.stdout + answered.stderr };
    const generated = Number(/(\d+) generated/.exec(schemathesis.stdout)?.[1] ?? 0);
    expect(generated, schemathesis.stdout.slice(-3000)).toBeGreaterThan(300);
    expect(schemathesis.stdout).toMatch(/Operations:\s+(\d+) selected/);
    const findings = findingsOf(schemathesis.stdout);
    // A run that failed says so with findings; one that failed without any is a broken run, not a clean one.
    if (schemathesis.code !== 0) expect(findings.length, schemathesis.stdout.slice(-3000)).toBeGreaterThan(0);
    const banks = findings.filter((f) => f.codes.every((code) => code === 'ST202') && refusedByBank(f.answer));
    const generators = findings.filter((f) => f.codes.every((code) => code === 'ST202') && headerBreaksItsPattern(f));
    const gateways = findings.filter((f) => !banks.includes(f) && !generators.includes(f));
    if (banks.length > 0) console.log(`schemathesis: ${banks.length} schema-valid request(s) refused by the bank itself (tolerated): ${banks.map((f) => f.operation).join('; ')}`);
    if (generators.length > 0) console.log(`schemathesis: ${generators.length} request(s) it called schema-valid with a header that breaks the documented pattern (its coverage phase; refused rightly): ${generators.map((f) => f.operation).join('; ')}`);
    expect(gateways.map((f) => `${f.operation}: ${f.codes.join(',')} ${f.answer.slice(0, 300)}`), schemathesis.stdout.slice(-6000)).toEqual([]);
  });
});
