/**
 * The end-to-end scenarios every runtime passes (issue 12, item 5), with the gateway running INSIDE that
 * runtime (its adapter, its transport, its store) in front of the sandbox banks over real mTLS (per-run PKI):
 * consent for both banks; accounts 200 with the QWAC seen by the bank; an expired token refreshed; 50
 * concurrent calls on an expired SG token make exactly one refresh at the bank; a signed SG call accepted and
 * a tampered one refused; a wrong client certificate gives `bank_tls_error`.
 */
import { X509Certificate, createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSandbox, type RunningSandbox } from '../../sandbox/index.js';
import type { StatsSnapshot } from '../../sandbox/stats.js';
import { freePort, startRedis, type RedisServer } from '../vault/redis-server.js';
import { connectThrough, DEV_KEY, sleep, STORE_KEY } from '../vault/vault-harness.js';
import { buildJavaScript, startRuntimeProcess, type RuntimeProcess } from './runtime-process.js';

// Long enough that the 50 calls after expiry finish inside one token's life (refreshed before it ends) on two
// loaded cores: a second refresh within the burst would then be right, not a race.
const ACCESS_TTL_SECONDS = 8;
const AFTER_EXPIRY_MS = ACCESS_TTL_SECONDS * 1000 + 300;

export interface RuntimeUnderTest {
  /** `deno`, `bun`: the suite's name and the `runtime` in the probe's answer. */
  readonly name: string;
  /** The gateway entry (`dist/scripts/gateway-<name>.js`) under the runtime: command and arguments. */
  gateway(): { command: string; args: string[] };
  /** The store the gateway opens (BANKGATE_STORE): in `dir`, or on the Redis server started for the suite. */
  store(dir: string, redisUrl?: string): string;
  /** Start a real Redis for the store (its URL goes to `store`). */
  readonly redis?: boolean;
  /** The signing probe (`test/runtime/probe/signing-probe.ts`) under the runtime. */
  probe(): { command: string; args: string[] };
}

interface ProbeAnswer {
  readonly runtime: string;
  readonly asSigned: { status: number; body: Record<string, unknown> };
  readonly tampered: { status: number; body: Record<string, unknown> };
}

/** RFC 8705 `x5t#S256` of a PEM certificate file: what the sandbox records as `clientCertThumbprint`. */
function thumbprintOf(certFile: string): string {
  return createHash('sha256').update(new X509Certificate(readFileSync(certFile)).raw).digest('base64url');
}

export function describeRuntime(runtime: RuntimeUnderTest): void {
  const storeLabel = runtime.store('<dir>', 'redis://<redis>').replace(/:.*/, '');
  describe(`bankgate inside ${runtime.name} (${storeLabel} store), in front of the sandbox banks (real mTLS)`, () => {
    let dir: string;
    let redis: RedisServer | undefined;
    let sandbox: RunningSandbox;
    let gateway: RuntimeProcess;
    let url: string;

    const startGateway = async (sandboxFile: string, store: string): Promise<{ process: RuntimeProcess; url: string }> => {
      const port = await freePort();
      const { command, args } = runtime.gateway();
      const started = startRuntimeProcess(command, args, {
        PORT: String(port),
        BANKGATE_DEV_KEY: DEV_KEY,
        BANKGATE_STORE_KEY: STORE_KEY,
        BANKGATE_STORE: store,
        BANKGATE_SANDBOX_FILE: sandboxFile,
      });
      const at = await started.waitFor('ready ');
      return { process: started, url: at };
    };

    beforeAll(async () => {
      buildJavaScript();
      dir = mkdtempSync(join(tmpdir(), `bankgate-${runtime.name}-`));
      [sandbox, redis] = await Promise.all([startSandbox({ dir, accessTtlSeconds: ACCESS_TTL_SECONDS }), runtime.redis ? startRedis() : undefined]);
      ({ process: gateway, url } = await startGateway(sandbox.filePath, runtime.store(dir, redis?.url)));
    });
    afterAll(async () => {
      await gateway?.kill();
      await sandbox?.stop();
      await redis?.stop();
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

    const call = (path: string, connectionId: string, base = url) =>
      fetch(base + path, { headers: { authorization: `Bearer ${DEV_KEY}`, 'x-connection-id': connectionId, 'psu-ip-address': '203.0.113.7' } });
    const stats = async () => (await (await fetch(sandbox.file.statsUrl)).json()) as StatsSnapshot;
    const resetStats = () => fetch(sandbox.file.resetUrl, { method: 'POST' });
    const bankRequests = async (bank: string) => (await (await fetch(`${sandbox.file.controlUrl}/requests?bank=${bank}`)).json()) as Array<{ path: string; status: number; clientCertThumbprint?: string; headers: Record<string, string> }>;

    it('the gateway runs in the runtime under test', () => {
      expect(gateway.lines.join('\n')).toMatch(new RegExp(`bankgate \\(${runtime.name} [\\d.]+\\) listening`));
    });

    it('consent for both banks; the accounts of both answer 200, and each bank saw the QWAC on those calls', async () => {
      await connectThrough(url, sandbox.file, 'sg', 'rt-sg');
      await connectThrough(url, sandbox.file, 'seb', 'rt-seb');
      const [sg, seb] = await Promise.all([call('/sg/aisp/accounts', 'rt-sg'), call('/seb/ais/accounts', 'rt-seb')]);
      expect([sg.status, seb.status]).toEqual([200, 200]);
      expect(((await sg.json()) as { accounts: unknown[] }).accounts.length).toBeGreaterThan(0);
      expect(((await seb.json()) as { accounts: unknown[] }).accounts.length).toBeGreaterThan(0);
      for (const bank of ['sg', 'seb'] as const) {
        const seen = (await bankRequests(bank)).filter((r) => r.path.endsWith('/accounts')).at(-1)!;
        expect(seen.status).toBe(200);
        expect(seen.clientCertThumbprint).toBe(thumbprintOf(sandbox.file.banks[bank].mtls.certFile));
      }
      if (redis) expect(await redis.client().keys('bankgate:conn:*/rt-sg')).toHaveLength(1);
      // SG verifies Digest and Signature on every call: the accepted call was signed in the runtime.
      expect((await bankRequests('sg')).at(-1)!.headers.signature).toMatch(/rsa-sha256/);
    });

    it('after expiry: 50 concurrent calls on the expired SG token all succeed with exactly one refresh at the bank; SEB refreshed too', async () => {
      await sleep(AFTER_EXPIRY_MS);
      await resetStats();
      const responses = await Promise.all(Array.from({ length: 50 }, () => call('/sg/aisp/accounts', 'rt-sg')));
      expect(responses.map((r) => r.status).filter((s) => s !== 200)).toEqual([]);
      const seb = await call('/seb/ais/accounts', 'rt-seb');
      expect(seb.status).toBe(200);
      const after = await stats();
      expect(after.banks.sg.tokenRequests.refresh_token).toBe(1);
      expect(after.banks.sg.tokenErrors).toEqual({});
      expect(after.banks.seb.tokenRequests.refresh_token).toBe(1);
    });

    it("a signed SG payment request is accepted, and the same request with one byte changed after the runtime signed it is refused", async () => {
      const { command, args } = runtime.probe();
      const probe = startRuntimeProcess(command, args, { BANKGATE_SANDBOX_FILE: sandbox.filePath, BANKGATE_DEV_KEY: DEV_KEY, BANKGATE_STORE: 'memory' });
      try {
        const answer = JSON.parse(await probe.waitFor('probe ')) as ProbeAnswer;
        expect(answer.runtime).toBe(runtime.name);
        expect(answer.asSigned.status).toBe(201);
        expect(answer.tampered.status).toBe(401);
        expect(answer.tampered.body).toMatchObject({ error: 'invalid_signature' });
      } finally {
        await probe.kill();
      }
    });

    it('a client certificate the bank does not trust gives 502 bank_tls_error naming the bank', async () => {
      // The same sandbox, its file doctored so that the gateway presents the untrusted certificate to SEB.
      const doctored = JSON.parse(readFileSync(sandbox.filePath, 'utf8')) as { banks: Record<string, { mtls: unknown }> };
      doctored.banks.seb!.mtls = sandbox.file.untrustedClientCert;
      const file = join(dir, 'untrusted-seb.json');
      writeFileSync(file, JSON.stringify(doctored));
      const wrong = await startGateway(file, 'memory');
      try {
        // SEB's token endpoint takes the client secret; its resource server checks the QWAC at the handshake.
        await connectThrough(wrong.url, sandbox.file, 'seb', 'rt-wrong');
        const response = await call('/seb/ais/accounts', 'rt-wrong', wrong.url);
        expect(response.status).toBe(502);
        const problem = (await response.json()) as { code: string; bank: string; detail: string };
        expect(problem.code).toBe('bank_tls_error');
        expect(problem.bank).toBe('seb');
        expect(problem.detail).toMatch(/banks\.seb\.mtls/);
      } finally {
        await wrong.process.kill();
      }
    });
  });
}
