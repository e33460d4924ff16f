/**
 * examples/host-app as its README says to run it: `npm install && npm start` in its folder (the sandbox banks and
 * the host app with bankgate under /banks, one process), then `npm run connect` from the repository root with
 * BANKGATE_URL pointing under the prefix. Everything over real sockets; the example depends on bankgate as a
 * package (`file:../..`), so this also proves the built package mounts in a host app with its own copy of hono.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../vault/redis-server.js';
import { collectHrefs } from '../surface/hal-hrefs.js';
import type { SandboxFile } from '../../sandbox/sandbox-file.js';
import { run, teamEnv } from '../package/project.js';

const repoRoot = new URL('../../', import.meta.url).pathname;
const example = join(repoRoot, 'examples', 'host-app');
const DEV_KEY = 'host-app-test-dev-key-0123456789';
const PSU_IP = '203.0.113.7';

let dir: string;
let app: ChildProcess;
let output = '';
let base: string;
let sandbox: SandboxFile;


beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'bankgate-host-app-'));
  const installed = await run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error'], example);
  expect(installed.code, installed.stderr).toBe(0);
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  // Its own sandbox file and a memory store: nothing of a developer's `npm start` is touched. Short-lived access
  // tokens, so that a refresh happens within the test.
  const env = teamEnv({ PORT: String(port), BANKGATE_DEV_KEY: DEV_KEY, BANKGATE_SANDBOX_FILE: join(dir, 'sandbox.json'), BANKGATE_STORE: 'memory', SANDBOX_ACCESS_TTL: '4' });
  app = spawn('npm', ['start'], { cwd: example, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  app.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  app.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`examples/host-app: not listening after 120 s:\n${output}`)), 120_000);
    app.once('exit', (code) => reject(new Error(`examples/host-app exited with ${code}:\n${output}`)));
    const check = setInterval(() => {
      if (!output.includes('host app listening on')) return;
      clearInterval(check);
      clearTimeout(timer);
      app.removeAllListeners('exit');
      resolve();
    }, 50);
  });
  sandbox = JSON.parse(readFileSync(join(dir, 'sandbox.json'), 'utf8')) as SandboxFile;
}, 300_000);

afterAll(async () => {
  if (app?.pid !== undefined && app.exitCode === null) {
    const exited = new Promise((resolve) => app.once('exit', resolve));
    process.kill(-app.pid, 'SIGTERM');
    await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 10_000))]);
    if (app.exitCode === null) process.kill(-app.pid, 'SIGKILL');
  }
  if (dir) rmSync(dir, { recursive: true, force: true });
}, 30_000);

const call = (path: string, headers: Record<string, string> = {}) => fetch(base + path, { headers: { authorization: `Bearer ${DEV_KEY}`, ...headers } });
const psu = { seb: { 'x-connection-id': 'host-seb', 'psu-ip-address': PSU_IP }, sg: { 'x-connection-id': 'host-sg' } };
const accounts = { seb: '/banks/seb/ais/accounts', sg: '/banks/sg/aisp/accounts' };

describe('examples/host-app', () => {
  it('keeps the host’s own routes; a bank path outside /banks is not a bank route', async () => {
    const home = await fetch(`${base}/`);
    expect(home.status).toBe(200);
    expect(((await home.json()) as { banks: string }).banks).toBe('/banks');
    const outside = await call('/seb/ais/accounts', psu.seb);
    expect(outside.status).toBe(404);
    expect(outside.headers.get('content-type') ?? '').not.toContain('problem+json');
  });

  it('lists the /banks paths and the consent API in /banks/openapi.json', async () => {
    const document = (await (await call('/banks/openapi.json')).json()) as { paths: Record<string, unknown> };
    const paths = Object.keys(document.paths);
    expect(paths.every((path) => path.startsWith('/banks/'))).toBe(true);
    expect(paths).toEqual(expect.arrayContaining(['/banks/connections', '/banks/connections/{connectionId}', '/banks/seb/ais/accounts', '/banks/sg/aisp/accounts']));
  });

  it('consents for both banks with `npm run connect` from the root, serves accounts, and every link in them', { timeout: 180_000 }, async () => {
    for (const bank of ['seb', 'sg'] as const) {
      const connected = await run('npm', ['run', '--silent', 'connect', '--', '--bank', bank, '--connection', `host-${bank}`], repoRoot, teamEnv({ BANKGATE_URL: `${base}/banks`, BANKGATE_DEV_KEY: DEV_KEY, BANKGATE_SANDBOX_FILE: join(dir, 'sandbox.json') }));
      expect(connected.code, connected.stderr + connected.stdout).toBe(0);
      expect(connected.stdout).toContain(`connection host-${bank} is active`);
      const answer = await call(accounts[bank], psu[bank]);
      expect(answer.status).toBe(200);
      const hrefs = collectHrefs(await answer.json());
      expect(hrefs.length).toBeGreaterThan(0);
      for (const href of hrefs) {
        expect(href.startsWith(`/banks/${bank}/`), href).toBe(true);
        expect((await call(href, psu[bank])).status, href).toBe(200);
      }
    }
  });

  it('refreshes an expired access token under /banks', { timeout: 60_000 }, async () => {
    const view = async () => (await (await call('/banks/connections/host-sg')).json()) as { status: string; accessTokenExpiresAt: string };
    const before = await view();
    const refreshes = async () => ((await (await fetch(sandbox.statsUrl)).json()) as { banks: { sg: { tokenRequests: Record<string, number> } } }).banks.sg.tokenRequests.refresh_token ?? 0;
    const refreshedBefore = await refreshes();
    // Past the expiry the bank granted (read from the connection, not guessed): the next call must refresh first.
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, Date.parse(before.accessTokenExpiresAt) - Date.now()) + 250));
    expect((await call(accounts.sg, psu.sg)).status).toBe(200);
    const after = await view();
    expect(after.status).toBe('active');
    expect(Date.parse(after.accessTokenExpiresAt)).toBeGreaterThan(Date.parse(before.accessTokenExpiresAt));
    expect(await refreshes()).toBeGreaterThan(refreshedBefore);
  });
});

