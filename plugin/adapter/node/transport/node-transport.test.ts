import { createServer as createTcpServer, type AddressInfo, type Server as TcpServer, type Socket } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { certificateThumbprint, createCertificateAuthority } from '../../../../sandbox/pki.js';
import { BankgateError } from '../../../errors/bankgate-error.js';
import { createNodeTransport, type NodeTransportOptions } from './node-transport.js';
import type { BankTransport } from '../../../transport/types.js';
import { createTestPki, startUpstream, type TestPki, type Upstream } from './upstream.fixture.js';
import { failure } from '../../../transport/failure.fixture.js';

let pki: TestPki;
let bank: Upstream;
const transports: BankTransport[] = [];
const others: Array<{ close(): Promise<void> }> = [];

beforeAll(async () => {
  pki = await createTestPki();
  bank = await startUpstream({ cert: pki.server.certPem, key: pki.server.keyPem, ca: pki.caPem });
});
afterEach(async () => {
  await Promise.all(transports.splice(0).map((t) => t.close()));
  await Promise.all(others.splice(0).map((o) => o.close()));
});
afterAll(() => bank.close());

function transport(overrides: Partial<NodeTransportOptions> = {}): BankTransport {
  const t = createNodeTransport({
    bank: 'sg',
    tls: { ca: pki.caPem, cert: pki.client.certPem, key: pki.client.keyPem },
    ...overrides,
  });
  transports.push(t);
  return t;
}

async function upstream(...args: Parameters<typeof startUpstream>): Promise<Upstream> {
  const u = await startUpstream(...args);
  others.push(u);
  return u;
}

const json = (body: Uint8Array): Record<string, unknown> => JSON.parse(Buffer.from(body).toString('utf8'));

describe('createNodeTransport: mTLS', () => {
  it('calls the bank over mTLS presenting the configured client certificate', async () => {
    const res = await transport().send({
      method: 'POST',
      origin: bank.origin,
      path: '/ais/v1/accounts?limit=2',
      headers: { 'x-request-id': 'r-1', 'Content-Type': 'application/json' },
      body: Buffer.from('{"a":1}'),
    });
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('application/json');
    const echoed = json(res.body);
    expect(echoed).toMatchObject({
      method: 'POST',
      url: '/ais/v1/accounts?limit=2',
      body: '{"a":1}',
      thumbprint: certificateThumbprint(pki.client.certPem),
    });
    expect(echoed.headers).toMatchObject({ 'x-request-id': 'r-1', 'content-type': 'application/json', 'content-length': '7' });
    expect(res.body.constructor).toBe(Uint8Array);
  });

  it('reuses the pooled connection across calls', async () => {
    const t = transport();
    const ports = new Set<unknown>();
    for (let i = 0; i < 6; i++) {
      const res = await t.send({ method: 'GET', origin: bank.origin, path: '/x', headers: {} });
      expect(res.status).toBe(200);
      ports.add(bank.received.at(-1)!.raw.socket.remotePort);
    }
    // Undici's pool may open a second connection while the first is being released; never one per call.
    expect(ports.size).toBeLessThanOrEqual(2);
  });

  it('never lets a header steer the request: host, content-length and hop-by-hop request headers are dropped', async () => {
    await transport().send({
      method: 'POST',
      origin: bank.origin,
      path: '/x',
      headers: {
        host: 'evil.example',
        'content-length': '999',
        connection: 'x-private',
        'x-private': 'secret',
        te: 'trailers',
        'proxy-authorization': 'Basic Zm9vOmJhcg==',
        'x-kept': 'yes',
      },
      body: Buffer.from('ab'),
    });
    const seen = bank.received.at(-1)!.headers;
    expect(seen.host).toBe(`127.0.0.1:${bank.port}`);
    expect(seen['content-length']).toBe('2');
    expect(seen['x-kept']).toBe('yes');
    for (const name of ['x-private', 'te', 'proxy-authorization']) expect(seen[name]).toBeUndefined();
  });

  it('strips hop-by-hop response headers, including those the Connection header names', async () => {
    const u = await upstream({ cert: pki.server.certPem, key: pki.server.keyPem, ca: pki.caPem }, (_req, res) => {
      res.setHeader('connection', 'keep-alive, x-conn-private');
      res.setHeader('keep-alive', 'timeout=5');
      res.setHeader('x-conn-private', '1');
      res.setHeader('proxy-authenticate', 'Basic');
      res.setHeader('trailer', 'x-checksum');
      res.setHeader('upgrade', 'h2c');
      res.setHeader('Set-Cookie', ['a=1', 'b=2']);
      res.setHeader('X-Bank-Header', 'kept');
      res.write('chunked ');
      res.end('body');
    });
    const res = await transport().send({ method: 'GET', origin: u.origin, path: '/', headers: {} });
    expect(Buffer.from(res.body).toString()).toBe('chunked body');
    for (const name of ['connection', 'keep-alive', 'x-conn-private', 'proxy-authenticate', 'trailer', 'upgrade', 'transfer-encoding']) {
      expect(res.headers[name], name).toBeUndefined();
    }
    expect(res.headers['x-bank-header']).toBe('kept');
    expect(res.headers['set-cookie']).toEqual(['a=1', 'b=2']);
  });

  it('uses tls.servername for SNI and the certificate check', async () => {
    const ca = await createCertificateAuthority('Named CA');
    const named = await ca.issueServer({ hosts: ['api.bank.example'] });
    const client = await ca.issueClient({ commonName: 'tpp' });
    const u = await upstream({ cert: named.certPem, key: named.keyPem, ca: ca.certPem });
    const t = transport({ tls: { ca: ca.certPem, cert: client.certPem, key: client.keyPem, servername: 'api.bank.example' } });
    const res = await t.send({ method: 'GET', origin: u.origin, path: '/', headers: {} });
    expect(res.status).toBe(200);
  });

  it('refuses a non-https origin', async () => {
    const error = await failure(transport().send({ method: 'GET', origin: `http://127.0.0.1:${bank.port}`, path: '/', headers: {} }));
    expect(error.code).toBe('internal_error');
  });
});

describe('createNodeTransport: server certificate checks', () => {
  it('wrong server CA → bank_certificate_untrusted', async () => {
    const t = transport({ tls: { ca: pki.otherCaPem, cert: pki.client.certPem, key: pki.client.keyPem } });
    const error = await failure(t.send({ method: 'GET', origin: bank.origin, path: '/', headers: {} }));
    expect(error.code).toBe('bank_certificate_untrusted');
    expect(error.status).toBe(502);
    // Which of the two OpenSSL reports depends on whether the bank sends its CA in the chain.
    expect(['UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'SELF_SIGNED_CERT_IN_CHAIN']).toContain(error.extra?.reason);
    expect(error.message).toContain('bank sg');
    expect(error.message).toContain('banks.sg.mtls.ca');
    expect((error.cause as { code?: string }).code).toBe(error.extra?.reason);
  });

  it('system roots (no ca) do not trust a private CA → bank_certificate_untrusted', async () => {
    const t = transport({ tls: { cert: pki.client.certPem, key: pki.client.keyPem } });
    const error = await failure(t.send({ method: 'GET', origin: bank.origin, path: '/', headers: {} }));
    expect(error.code).toBe('bank_certificate_untrusted');
  });

  it('server certificate for another host → bank_certificate_untrusted', async () => {
    const ca = await createCertificateAuthority('Bank CA 2');
    const other = await ca.issueServer({ hosts: ['other.bank.example'] });
    const client = await ca.issueClient({ commonName: 'tpp' });
    const u = await upstream({ cert: other.certPem, key: other.keyPem, ca: ca.certPem });
    const t = transport({ tls: { ca: ca.certPem, cert: client.certPem, key: client.keyPem } });
    const error = await failure(t.send({ method: 'GET', origin: u.origin, path: '/', headers: {} }));
    expect(error.code).toBe('bank_certificate_untrusted');
    expect(error.extra).toEqual({ reason: 'ERR_TLS_CERT_ALTNAME_INVALID' });
    expect(error.message).toContain('not issued for the host');
  });

  it('expired server certificate → bank_certificate_untrusted', async () => {
    const ca = await createCertificateAuthority('Bank CA 3');
    const expired = await ca.issueServer({ notBefore: new Date(Date.now() - 10 * 86_400_000), notAfter: new Date(Date.now() - 86_400_000) });
    const client = await ca.issueClient({ commonName: 'tpp' });
    const u = await upstream({ cert: expired.certPem, key: expired.keyPem, ca: ca.certPem });
    const t = transport({ tls: { ca: ca.certPem, cert: client.certPem, key: client.keyPem } });
    const error = await failure(t.send({ method: 'GET', origin: u.origin, path: '/', headers: {} }));
    expect(error.code).toBe('bank_certificate_untrusted');
    expect(error.extra).toEqual({ reason: 'CERT_HAS_EXPIRED' });
  });
});

describe('createNodeTransport: client certificate rejected by the bank', () => {
  for (const maxVersion of ['TLSv1.3', 'TLSv1.2'] as const) {
    it(`client certificate from an untrusted CA → bank_tls_error (${maxVersion})`, async () => {
      const u = await upstream({ cert: pki.server.certPem, key: pki.server.keyPem, ca: pki.caPem, maxVersion });
      const t = transport({ tls: { ca: pki.caPem, cert: pki.untrustedClient.certPem, key: pki.untrustedClient.keyPem } });
      const error = await failure(t.send({ method: 'GET', origin: u.origin, path: '/', headers: {} }));
      expect(error.code).toBe('bank_tls_error');
      expect(error.status).toBe(502);
      expect(error.message).toMatch(/^bank sg rejected the TLS handshake: .*client certificate is missing or not trusted/);
      expect(error.message).toContain('Check banks.sg.mtls');
      expect(u.received).toHaveLength(0);
    });
  }

  it('every later call fails the same way (no stale pooled state)', async () => {
    const u = await upstream({ cert: pki.server.certPem, key: pki.server.keyPem, ca: pki.caPem });
    const t = transport({ tls: { ca: pki.caPem, cert: pki.untrustedClient.certPem, key: pki.untrustedClient.keyPem } });
    const codes = await Promise.all(
      [1, 2, 3].map((i) => failure(t.send({ method: 'POST', origin: u.origin, path: `/${i}`, headers: {}, body: Buffer.alloc(64 * 1024) }))),
    );
    expect(codes.map((e) => e.code)).toEqual(['bank_tls_error', 'bank_tls_error', 'bank_tls_error']);
  });
});

describe('createNodeTransport: network failures', () => {
  it('refused port → bank_unreachable', async () => {
    const probe = createTcpServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
    const { port } = probe.address() as AddressInfo;
    await new Promise((r) => probe.close(r));
    const error = await failure(transport().send({ method: 'GET', origin: `https://127.0.0.1:${port}`, path: '/', headers: {} }));
    expect(error.code).toBe('bank_unreachable');
    expect(error.extra).toEqual({ reason: 'ECONNREFUSED' });
    expect(error.message).toContain(`at https://127.0.0.1:${port}`);
  });

  it('unknown host → bank_unreachable', async () => {
    const error = await failure(transport().send({ method: 'GET', origin: 'https://bank.invalid', path: '/', headers: {} }));
    expect(error.code).toBe('bank_unreachable');
  });

  it('a port that accepts TCP but never speaks TLS → bank_timeout (connect)', async () => {
    const sockets: Socket[] = [];
    const silent: TcpServer = createTcpServer((socket) => sockets.push(socket));
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    others.push({
      close: () =>
        new Promise<void>((r) => {
          sockets.forEach((s) => s.destroy());
          silent.close(() => r());
        }),
    });
    const { port } = silent.address() as AddressInfo;
    const t = transport({ timeouts: { connectMs: 200 } });
    const error = await failure(t.send({ method: 'GET', origin: `https://127.0.0.1:${port}`, path: '/', headers: {} }));
    expect(error.code).toBe('bank_timeout');
    expect(error.status).toBe(504);
    expect(error.extra).toEqual({ reason: 'UND_ERR_CONNECT_TIMEOUT' });
    expect(error.message).toContain('within 200 ms');
    expect(error.message).toContain('banks.sg.transport.timeouts.connectMs');
  });

  it('a bank that never answers → bank_timeout (headers)', async () => {
    const u = await upstream({ cert: pki.server.certPem, key: pki.server.keyPem, ca: pki.caPem }, () => {});
    const t = transport({ timeouts: { headersMs: 200 } });
    const error = await failure(t.send({ method: 'GET', origin: u.origin, path: '/', headers: {} }));
    expect(error.code).toBe('bank_timeout');
    expect(error.extra).toEqual({ reason: 'UND_ERR_HEADERS_TIMEOUT' });
    expect(error.message).toContain('did not send response headers within 200 ms');
  });

  it('a bank that stalls mid-body → bank_timeout (body)', async () => {
    const u = await upstream({ cert: pki.server.certPem, key: pki.server.keyPem, ca: pki.caPem }, (_req, res) => {
      res.writeHead(200, { 'content-length': '100' });
      res.write('partial');
    });
    const t = transport({ timeouts: { bodyMs: 200 } });
    const error = await failure(t.send({ method: 'GET', origin: u.origin, path: '/', headers: {} }));
    expect(error.code).toBe('bank_timeout');
    expect(error.extra).toEqual({ reason: 'UND_ERR_BODY_TIMEOUT' });
  });

  it.each([false, true])('a bank that trickles its body (a byte per 100 ms, never idle for bodyMs) → bank_timeout at totalMs (with a caller signal: %s)', async (withSignal) => {
    const timers: NodeJS.Timeout[] = [];
    const u = await upstream({ cert: pki.server.certPem, key: pki.server.keyPem, ca: pki.caPem }, (_req, res) => {
      res.writeHead(200, { 'content-length': '1000' });
      const tick = setInterval(() => res.write('x'), 100);
      timers.push(tick);
      res.on('close', () => clearInterval(tick));
    });
    const t = transport({ timeouts: { bodyMs: 500, totalMs: 800 } });
    const started = performance.now();
    const error = await failure(t.send({ method: 'GET', origin: u.origin, path: '/', headers: {}, ...(withSignal ? { signal: new AbortController().signal } : {}) }));
    const tookMs = performance.now() - started;
    for (const tick of timers) clearInterval(tick);
    expect(error.code).toBe('bank_timeout');
    expect(error.status).toBe(504);
    expect(error.extra).toEqual({ reason: 'ERR_BANKGATE_ATTEMPT_DEADLINE' });
    expect(error.message).toContain('did not send its complete answer within 800 ms');
    expect(error.message).toContain('banks.sg.transport.timeouts.totalMs');
    // Ended by the deadline, not by the bank (whose body would take 100 s).
    expect(tookMs).toBeGreaterThanOrEqual(750);
    expect(tookMs).toBeLessThan(30_000);
  });

  it('an aborted signal rethrows the abort, not a bank error', async () => {
    const u = await upstream({ cert: pki.server.certPem, key: pki.server.keyPem, ca: pki.caPem }, () => {});
    const controller = new AbortController();
    const pending = transport().send({ method: 'GET', origin: u.origin, path: '/', headers: {}, signal: controller.signal });
    setTimeout(() => controller.abort(), 50);
    const error = await pending.catch((e: unknown) => e);
    expect(error).not.toBeInstanceOf(BankgateError);
    expect(controller.signal.aborted).toBe(true);
  });
});

describe('createNodeTransport: response size limit', () => {
  const big = 'x'.repeat(4096);

  it('announced oversize body (content-length) → bank_response_too_large', async () => {
    const u = await upstream({ cert: pki.server.certPem, key: pki.server.keyPem, ca: pki.caPem }, (_req, res) => {
      res.setHeader('content-length', String(big.length));
      res.end(big);
    });
    const error = await failure(transport({ maxResponseBytes: 1024 }).send({ method: 'GET', origin: u.origin, path: '/', headers: {} }));
    expect(error.code).toBe('bank_response_too_large');
    expect(error.status).toBe(502);
    expect(error.message).toContain('larger than 1024 bytes');
    expect(error.message).toContain('banks.sg.maxResponseBytes');
  });

  it('chunked oversize body → bank_response_too_large', async () => {
    const u = await upstream({ cert: pki.server.certPem, key: pki.server.keyPem, ca: pki.caPem }, (_req, res) => {
      for (let i = 0; i < 4; i++) res.write(big);
      res.end();
    });
    const error = await failure(transport({ maxResponseBytes: 10_000 }).send({ method: 'GET', origin: u.origin, path: '/', headers: {} }));
    expect(error.code).toBe('bank_response_too_large');
  });

  it('a body exactly at the limit is accepted', async () => {
    const u = await upstream({ cert: pki.server.certPem, key: pki.server.keyPem, ca: pki.caPem }, (_req, res) => res.end(big));
    const res = await transport({ maxResponseBytes: big.length }).send({ method: 'GET', origin: u.origin, path: '/', headers: {} });
    expect(res.body.byteLength).toBe(big.length);
  });
});

describe('createNodeTransport: fetch', () => {
  it('presents the same client certificate, with (url, init)', async () => {
    const res = await transport().fetch(`${bank.origin}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'grant_type=client_credentials',
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({
      method: 'POST',
      url: '/token',
      body: 'grant_type=client_credentials',
      thumbprint: certificateThumbprint(pki.client.certPem),
    });
  });

  it('accepts a Request object', async () => {
    const request = new Request(`${bank.origin}/token?x=1`, {
      method: 'POST',
      headers: { 'x-request-id': 'req-7' },
      body: 'a=b',
    });
    const res = await transport().fetch(request);
    const echoed = (await res.json()) as Record<string, unknown>;
    expect(echoed).toMatchObject({ method: 'POST', url: '/token?x=1', body: 'a=b', thumbprint: certificateThumbprint(pki.client.certPem) });
    expect(echoed.headers).toMatchObject({ 'x-request-id': 'req-7' });
  });

  it('classifies failures like send()', async () => {
    const t = transport({ tls: { ca: pki.caPem, cert: pki.untrustedClient.certPem, key: pki.untrustedClient.keyPem } });
    const error = await failure(t.fetch(`${bank.origin}/token`));
    expect(error.code).toBe('bank_tls_error');
    const untrusted = await failure(transport({ tls: { ca: pki.otherCaPem, cert: pki.client.certPem, key: pki.client.keyPem } }).fetch(bank.origin));
    expect(untrusted.code).toBe('bank_certificate_untrusted');
  });

  it('bounds token responses by maxResponseBytes too', async () => {
    const u = await upstream({ cert: pki.server.certPem, key: pki.server.keyPem, ca: pki.caPem }, (_req, res) => res.end('y'.repeat(5000)));
    const error = await failure(transport({ maxResponseBytes: 1000 }).fetch(u.origin));
    expect(error.code).toBe('bank_response_too_large');
  });

  // Issue 15 item 4: every OAuth call (discovery, PAR, token, revocation, JWKS) goes through this fetch; its
  // attempt ends at totalMs, headers and body, as send()'s does, whatever the idle timeouts allow.
  const TOTAL_MS = 800;
  const deadlineExpectations = (error: BankgateError, tookMs: number): void => {
    expect(error.code).toBe('bank_timeout');
    expect(error.status).toBe(504);
    expect(error.extra).toEqual({ reason: 'ERR_BANKGATE_ATTEMPT_DEADLINE' });
    expect(error.message).toContain(`did not send its complete answer within ${TOTAL_MS} ms`);
    expect(error.message).toContain('banks.sg.transport.timeouts.totalMs');
    // Ended by the deadline: not before it, and long before the bank (or the idle timeouts) would have.
    expect(tookMs).toBeGreaterThanOrEqual(TOTAL_MS - 20);
    expect(tookMs).toBeLessThan(20_000);
  };

  it.each([false, true])('a token endpoint that trickles its body (a byte per 200 ms) → bank_timeout at totalMs (with a caller signal: %s)', async (withSignal) => {
    const u = await upstream({ cert: pki.server.certPem, key: pki.server.keyPem, ca: pki.caPem }, (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': '1000' });
      const tick = setInterval(() => res.write(' '), 200);
      res.on('close', () => clearInterval(tick));
    });
    const t = transport({ timeouts: { bodyMs: 1_000, totalMs: TOTAL_MS } });
    const started = performance.now();
    const error = await failure(t.fetch(`${u.origin}/token`, { method: 'POST', body: 'grant_type=authorization_code', ...(withSignal ? { signal: new AbortController().signal } : {}) }));
    deadlineExpectations(error, performance.now() - started);
  });

  it('a token endpoint that never answers → bank_timeout at totalMs, long before headersMs', async () => {
    const u = await upstream({ cert: pki.server.certPem, key: pki.server.keyPem, ca: pki.caPem }, () => {});
    const t = transport({ timeouts: { headersMs: 120_000, totalMs: TOTAL_MS } });
    const started = performance.now();
    const error = await failure(t.fetch(new Request(`${u.origin}/token`, { method: 'POST', body: 'grant_type=refresh_token' })));
    deadlineExpectations(error, performance.now() - started);
  });

  it("the caller's signal still ends the call first: its abort is rethrown as is", async () => {
    const u = await upstream({ cert: pki.server.certPem, key: pki.server.keyPem, ca: pki.caPem }, () => {});
    const controller = new AbortController();
    const pending = transport({ timeouts: { totalMs: 60_000 } }).fetch(`${u.origin}/token`, { signal: controller.signal });
    setTimeout(() => controller.abort(), 50);
    const error = await pending.catch((e: unknown) => e);
    expect(error).not.toBeInstanceOf(BankgateError);
    expect((error as Error).name).toBe('AbortError');
  });
});
