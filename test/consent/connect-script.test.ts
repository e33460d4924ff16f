/**
 * `npm run connect` (scripts/connect.ts) against a running gateway and the sandbox, as a developer runs it: the
 * sandbox PSU completes a bg consent by each SCA approach the gateway's nextAction asks for, and a seb one as before.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEV_KEY, startHarness, type Harness } from '../e2e/harness.js';

const run = promisify(execFile);

describe('npm run connect completes a sandbox consent through the gateway', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(() => h?.close());

  const connect = (args: string[]) =>
    run('npx', ['tsx', 'scripts/connect.ts', ...args], { env: { ...process.env, BANKGATE_URL: h.url, BANKGATE_DEV_KEY: DEV_KEY, BANKGATE_SANDBOX_FILE: process.env.BANKGATE_SANDBOX_FILE }, timeout: 60_000 });

  for (const sca of ['redirect', 'decoupled', 'embedded'] as const) {
    it(`bg --sca ${sca}`, async () => {
      const { stdout } = await connect(['--bank', 'bg', '--connection', `cli-${sca}`, '--sca', sca, '--frequency-per-day', '2']);
      expect(stdout).toContain(`connection cli-${sca} is active`);
      const view = (await (await h.call(`/connections/cli-${sca}`)).json()) as { status: string; consent: { approach: string; frequencyPerDay: number } };
      expect(view).toMatchObject({ status: 'active', consent: { approach: sca, frequencyPerDay: 2 } });
      const accounts = await h.call('/bg/xs2a/v1/accounts', { headers: { 'x-connection-id': `cli-${sca}`, 'psu-ip-address': '203.0.113.7' } });
      expect(accounts.status).toBe(200);
    });
  }

  it('seb, as before', async () => {
    const { stdout } = await connect(['--bank', 'seb', '--connection', 'cli-seb']);
    expect(stdout).toContain('connection cli-seb is active');
  });

  it('names what is wrong: an unknown approach', async () => {
    await expect(connect(['--bank', 'bg', '--connection', 'cli-bad', '--sca', 'carrier-pigeon'])).rejects.toMatchObject({ stderr: expect.stringContaining('--sca must be one of') });
  });
});
