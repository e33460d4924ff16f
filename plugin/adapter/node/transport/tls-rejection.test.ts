import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent, buildConnector } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BankgateError } from '../../../errors/bankgate-error.js';
import { classifyTransportError } from '../../../transport/classify-error.js';
import { createNodeTransport } from './node-transport.js';
import { surfaceTlsRejection } from './tls-rejection.js';
import { createTestPki, startUpstream, type TestPki, type Upstream } from './upstream.fixture.js';

let pki: TestPki;
let bank: Upstream;

beforeAll(async () => {
  pki = await createTestPki();
  bank = await startUpstream({ cert: pki.server.certPem, key: pki.server.keyPem, ca: pki.caPem });
});
afterAll(() => bank.close());

async function requestError(agent: Agent, origin: string): Promise<Error & { code?: string }> {
  try {
    const res = await agent.request({ origin, path: '/', method: 'GET' });
    await res.body.text();
  } catch (error) {
    return error as Error & { code?: string };
  } finally {
    await agent.close();
  }
  throw new Error('expected the request to fail');
}

describe('surfaceTlsRejection: the TLS 1.3 alert sent after our Finished', () => {
  it('without it, undici reports the alert as "other side closed" (why this module exists)', async () => {
    const agent = new Agent({ connect: buildConnector({ ca: pki.caPem }) });
    const error = await requestError(agent, bank.origin);
    expect(error.code).toBe('UND_ERR_SOCKET');
  });

  it('with it, the request fails with the real alert: certificate required', async () => {
    const agent = new Agent({ connect: surfaceTlsRejection(buildConnector({ ca: pki.caPem })) });
    const error = await requestError(agent, bank.origin);
    expect(error.code).toBe('ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED');
    const classified = classifyTransportError(error, { bank: 'sg' });
    expect(classified.code).toBe('bank_tls_error');
    expect(classified.message).toBe(
      'bank sg rejected the TLS handshake: client certificate missing or not trusted by the bank ' +
        '(alert: certificate required). Check banks.sg.mtls',
    );
    expect(classified.cause).toBe(error);
  });

  it('leaves accepted connections alone', async () => {
    const agent = new Agent({
      connect: surfaceTlsRejection(buildConnector({ ca: pki.caPem, cert: pki.client.certPem, key: pki.client.keyPem })),
    });
    for (let i = 0; i < 3; i++) {
      const res = await agent.request({ origin: bank.origin, path: '/', method: 'GET' });
      expect(res.statusCode).toBe(200);
      await res.body.text();
    }
    await agent.close();
  });
});

// OpenSSL's own server verifies the client certificate in the handshake and answers with an alert, as real
// bank front ends (nginx, F5, …) do; Node's TLS server only closes the socket.
const hasOpenssl = spawnSync('openssl', ['version']).status === 0;

describe.skipIf(!hasOpenssl)('against openssl s_server (a server that sends alerts)', () => {
  let server: ChildProcess;
  let origin: string;
  let dir: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'bankgate-tls-'));
    writeFileSync(join(dir, 'server.pem'), pki.server.certPem);
    writeFileSync(join(dir, 'server.key'), pki.server.keyPem);
    writeFileSync(join(dir, 'ca.pem'), pki.caPem);
    server = spawn(
      'openssl',
      ['s_server', '-accept', '127.0.0.1:0', '-cert', 'server.pem', '-key', 'server.key', '-CAfile', 'ca.pem',
        '-Verify', '1', '-verify_return_error', '-www'],
      { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    origin = await new Promise<string>((resolve, reject) => {
      let out = '';
      server.stdout!.on('data', (chunk: Buffer) => {
        out += chunk.toString();
        const port = /ACCEPT 127\.0\.0\.1:(\d+)/.exec(out)?.[1];
        if (port) resolve(`https://127.0.0.1:${port}`);
      });
      server.once('exit', (code) => reject(new Error(`openssl s_server exited with ${code}: ${out}`)));
    });
  });
  afterAll(() => {
    server.kill();
    rmSync(dir, { recursive: true, force: true });
  });

  it('a trusted client certificate gets through', async () => {
    const t = createNodeTransport({ bank: 'sg', tls: { ca: pki.caPem, cert: pki.client.certPem, key: pki.client.keyPem } });
    const res = await t.send({ method: 'GET', origin, path: '/', headers: {} });
    expect(res.status).toBe(200);
    await t.close();
  });

  it('an untrusted client certificate → bank_tls_error naming the alert (unknown ca)', async () => {
    const t = createNodeTransport({
      bank: 'sg',
      tls: { ca: pki.caPem, cert: pki.untrustedClient.certPem, key: pki.untrustedClient.keyPem },
    });
    const error = await t.send({ method: 'GET', origin, path: '/', headers: {} }).catch((e: unknown) => e);
    await t.close();
    expect(error).toBeInstanceOf(BankgateError);
    expect((error as BankgateError).code).toBe('bank_tls_error');
    expect((error as BankgateError).extra).toEqual({ reason: 'ERR_SSL_TLSV1_ALERT_UNKNOWN_CA' });
    expect((error as BankgateError).message).toBe(
      'bank sg rejected the TLS handshake: client certificate missing or not trusted by the bank ' +
        '(alert: unknown ca). Check banks.sg.mtls',
    );
  });
});
