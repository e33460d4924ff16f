import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import https from 'node:https';
import type { IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { writePkiFiles } from '../../bench/lib/pki-files.js';
import { freePort } from '../../bench/lib/setup.js';
import { repoRoot, startProcess, type Started } from '../../bench/lib/processes.js';

/**
 * What external harnesses and bench/proxy.ts rely on: bench/gateway-under-test (Node), and
 * bench/gateway-under-test-edge.ts inside Bun and Deno, forward one declared call, swapping the bearer token.
 */
const RUNTIMES = [
  { name: 'node', command: join(repoRoot, 'bench/gateway-under-test'), args: [] as string[] },
  { name: 'bun', command: join(repoRoot, 'node_modules/.bin/bun'), args: [join(repoRoot, 'bench/gateway-under-test-edge.ts')] },
  { name: 'deno', command: join(repoRoot, 'node_modules/.bin/deno'), args: ['run', '-A', '--sloppy-imports', '--unstable-kv', join(repoRoot, 'bench/gateway-under-test-edge.ts')] },
];

describe.each(RUNTIMES)('bench/gateway-under-test ($name)', ({ name, command, args }) => {
  const dir = mkdtempSync(join(tmpdir(), 'bankgate-gut-test-'));
  const devKey = 'gut-dev-key-0123456789abcdef';
  const bearer = 'bank-token-for-the-bench-connection';
  // Odd bytes on purpose: unicode, escaped characters and spacing must come back untouched.
  const body = Buffer.from('{"accounts":[{"iban":"SE35 5000 0000 0544 0000 0003","name":"Åsa \\"ö\\" ✓"}],  "n": 1.50}\n', 'utf8');
  const received: Array<{ url: string; headers: IncomingHttpHeaders; clientCert: boolean }> = [];
  let upstream: https.Server;
  let gateway: Started;
  let url: string;
  let pki: Awaited<ReturnType<typeof writePkiFiles>>;

  beforeAll(async () => {
    pki = await writePkiFiles(dir);
    upstream = https.createServer({ cert: readFileSync(pki.serverCert), key: readFileSync(pki.serverKey), ca: readFileSync(pki.caCert), requestCert: true, rejectUnauthorized: true }, (req, res) => {
      received.push({ url: req.url!, headers: req.headers, clientCert: (req.socket as TLSSocket).getPeerCertificate().subject !== undefined });
      res.writeHead(200, { 'content-type': 'application/json' }).end(body);
    });
    await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
    const port = await freePort();
    gateway = await startProcess(command, args, {
      HOST: '127.0.0.1',
      PORT: String(port),
      UPSTREAM_URL: `https://127.0.0.1:${(upstream.address() as AddressInfo).port}`,
      CLIENT_CERT: pki.clientCert,
      CLIENT_KEY: pki.clientKey,
      CA_CERT: pki.caCert,
      BEARER_TOKEN: bearer,
      BANKGATE_DEV_KEY: devKey,
    });
    url = `http://127.0.0.1:${port}`;
  });
  afterAll(async () => {
    await gateway?.stop();
    await new Promise<void>((resolve) => (upstream ? upstream.close(() => resolve()) : resolve()));
    rmSync(dir, { recursive: true, force: true });
  });

  it('forwards GET /bench/api/accounts to UPSTREAM_URL/accounts over mTLS with the bank token, body byte for byte', async () => {
    received.length = 0;
    const response = await fetch(`${url}/bench/api/accounts`, { headers: { authorization: `Bearer ${devKey}`, 'x-connection-id': 'bench' } });
    expect(response.status).toBe(200);
    expect(Buffer.from(await response.arrayBuffer()).equals(body)).toBe(true);
    expect(response.headers.get('content-type')).toBe('application/json');
    expect(received).toHaveLength(1);
    const [call] = received;
    expect(call!.url).toBe('/accounts');
    expect(call!.clientCert).toBe(true);
    expect(call!.headers.authorization).toBe(`Bearer ${bearer}`);
    expect(JSON.stringify(call!.headers)).not.toContain(devKey);
    expect(call!.headers['x-connection-id']).toBeUndefined();
    expect(call!.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  });

  it.runIf(name === 'node')('a wrong BANKGATE_LOG_LEVEL stops it at start-up with one line naming the variable and its levels', async () => {
    const run = spawnSync(join(repoRoot, 'bench/gateway-under-test'), [], {
      env: { ...process.env, PORT: String(await freePort()), UPSTREAM_URL: 'https://127.0.0.1:1', CLIENT_CERT: pki.clientCert, CLIENT_KEY: pki.clientKey, CA_CERT: pki.caCert, BEARER_TOKEN: 't', BANKGATE_DEV_KEY: devKey, BANKGATE_LOG_LEVEL: 'verbose' },
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(run.status).toBe(1);
    expect(run.stderr).toContain('bankgate: BANKGATE_LOG_LEVEL="verbose" is not a log level: set it to one of debug, info, warn, error, silent');
    expect(run.stderr).not.toMatch(/\n\s+at /); // no stack trace
  });

  it('refuses a caller without the dev key and never calls the upstream', async () => {
    received.length = 0;
    const response = await fetch(`${url}/bench/api/accounts`, { headers: { authorization: 'Bearer wrong-key-0123456789', 'x-connection-id': 'bench' } });
    expect(response.status).toBe(401);
    expect(response.headers.get('content-type')).toBe('application/problem+json');
    expect(received).toHaveLength(0);
  });
});
