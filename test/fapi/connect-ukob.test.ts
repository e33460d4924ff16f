/**
 * `npm run connect -- --bank ukob --connection X` (scripts/connect.ts) against the gateway configured by the project's
 * own hono.config.ts and the sandbox, in both FAPI profiles: the script creates the connection, the sandbox PSU
 * approves the intent headlessly, the callback completes it; then the accounts come through the gateway.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DEV_KEY, startHarness, type Harness } from '../e2e/harness.js';
import { repoRoot } from '../generate/cli.js';

function runConnect(h: Harness, args: readonly string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(join(repoRoot, 'node_modules', '.bin', 'tsx'), [join(repoRoot, 'scripts', 'connect.ts'), ...args], {
      cwd: repoRoot,
      env: { ...process.env, BANKGATE_URL: h.url, BANKGATE_DEV_KEY: DEV_KEY },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('npm run connect -- --bank ukob', () => {
  let h: Harness | undefined;
  const profile = process.env.SANDBOX_UKOB_FAPI;
  afterEach(async () => {
    await h?.close();
    h = undefined;
    if (profile === undefined) delete process.env.SANDBOX_UKOB_FAPI;
    else process.env.SANDBOX_UKOB_FAPI = profile;
  });

  for (const fapi of ['2.0', '1.0'] as const) {
    it(`completes the AIS consent headlessly (FAPI ${fapi}) and the accounts come through the gateway`, async () => {
      process.env.SANDBOX_UKOB_FAPI = fapi;
      h = await startHarness();
      expect(h.sandbox.banks.ukob.fapiProfile).toBe(fapi);
      const run = await runConnect(h, ['--bank', 'ukob', '--connection', `cli-${fapi}`]);
      expect(run.stderr).not.toMatch(/connect:/);
      expect(run.code).toBe(0);
      expect(run.stdout).toContain(`connection cli-${fapi} is active`);
      const accounts = await h.call('/ukob/aisp/accounts', { headers: { 'x-connection-id': `cli-${fapi}` } });
      expect(accounts.status).toBe(200);
      expect(((await accounts.json()) as { Data: { Account: unknown[] } }).Data.Account.length).toBeGreaterThan(0);
    });
  }
});
