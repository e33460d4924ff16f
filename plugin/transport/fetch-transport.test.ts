import { createPublicKey } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import httpSignature from 'http-signature';
import { Agent, fetch as undiciFetch } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { certificateThumbprint } from '../../sandbox/pki.js';
import { BankgateError } from '../errors/bankgate-error.js';
import { createFetchTransport } from './fetch-transport.js';
import { createNodeTransport } from '../adapter/node/transport/node-transport.js';
import type { BankTransport } from './types.js';
import { createTestPki, startUpstream, type TestPki, type Upstream } from '../adapter/node/transport/upstream.fixture.js';
import { failure } from './failure.fixture.js';

// The "runtime binding" here is the Node transport's own fetch: a real fetch that presents the client
// certificate, as a Workers mtls_certificates binding or a Deno HttpClient would.
let pki: TestPki;
let bank: Upstream;
let binding: BankTransport;

beforeAll(async () => {
  pki = await createTestPki();
  bank = await startUpstream({ cert: pki.server.certPem, key: pki.server.keyPem, ca: pki.caPem }, (request, res) => {
    if (request.url === '/redirect') {
      res.writeHead(302, { location: 'https://elsewhere.example/' }).end();
    } else if (request.url === '/big') {
      res.end('z'.repeat(5000));
    } else if (request.url === '/gzip') {
      res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'gzip' }).end(gzipSync('{"ok":true}'));
    } else if (request.url === '/slow') {
      setTimeout(() => res.end('late'), 1000);
    } else {
      res.setHeader('connection', 'keep-alive');
      res.setHeader('keep-alive', 'timeout=5');
      res.setHeader('set-cookie', ['a=1', 'b=2']);
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ url: request.url, thumbprint: request.thumbprint, headers: request.headers }));
    }
  });
  binding = createNodeTransport({ bank: 'sg', tls: { ca: pki.caPem, cert: pki.client.certPem, key: pki.client.keyPem } });
});
afterAll(async () => {
  await binding.close();
  await bank.close();
});

describe('createFetchTransport', () => {
  it('sends over the injected fetch, signs, strips hop-by-hop headers', async () => {
    const transport = createFetchTransport({
      bank: 'sg',
      fetch: binding.fetch,
      signing: { keyId: 'qseal', key: pki.sealing.keyPem },
    });
    const res = await transport.send({
      method: 'POST',
      origin: bank.origin,
      path: '/pisp/v1/payment-requests?x=1',
      headers: { 'x-request-id': 'f-1', host: 'evil.example', 'content-type': 'application/json' },
      body: Buffer.from('{"a":1}'),
    });
    expect(res.status).toBe(200);
    expect(res.headers.connection).toBeUndefined();
    expect(res.headers['keep-alive']).toBeUndefined();
    expect(res.headers['set-cookie']).toEqual(['a=1', 'b=2']);
    const echoed = JSON.parse(Buffer.from(res.body).toString()) as { url: string; thumbprint: string; headers: Record<string, string> };
    expect(echoed.url).toBe('/pisp/v1/payment-requests?x=1');
    expect(echoed.thumbprint).toBe(certificateThumbprint(pki.client.certPem));
    expect(echoed.headers.host).toBe(`127.0.0.1:${bank.port}`);
    const parsed = httpSignature.parseRequest(bank.received.at(-1)!.raw as never, { headers: ['(request-target)', 'digest', 'x-request-id'] });
    const publicKey = createPublicKey(pki.sealing.certPem).export({ type: 'spki', format: 'pem' }).toString();
    expect(httpSignature.verifySignature(parsed, publicKey)).toBe(true);
  });

  it('a gzip answer: fetch decodes it, and content-encoding is dropped so body and headers agree', async () => {
    const res = await createFetchTransport({ bank: 'sg', fetch: binding.fetch }).send({ method: 'GET', origin: bank.origin, path: '/gzip', headers: {} });
    expect(Buffer.from(res.body).toString()).toBe('{"ok":true}');
    expect(res.headers['content-encoding']).toBeUndefined();
    // The Node transport's send() does the same on its own (it decodes, fetch is not involved).
    const direct = await binding.send({ method: 'GET', origin: bank.origin, path: '/gzip', headers: {} });
    expect(Buffer.from(direct.body).toString()).toBe('{"ok":true}');
    expect(direct.headers['content-encoding']).toBeUndefined();
  });

  it('returns redirects instead of following them', async () => {
    const res = await createFetchTransport({ bank: 'sg', fetch: binding.fetch }).send({ method: 'GET', origin: bank.origin, path: '/redirect', headers: {} });
    expect(res.status).toBe(302);
    expect(res.headers.location).toBe('https://elsewhere.example/');
  });

  it('oversize body → bank_response_too_large', async () => {
    const transport = createFetchTransport({ bank: 'sg', fetch: binding.fetch, maxResponseBytes: 1000 });
    const error = await failure(transport.send({ method: 'GET', origin: bank.origin, path: '/big', headers: {} }));
    expect(error.code).toBe('bank_response_too_large');
  });

  it('no answer within timeoutMs → bank_timeout', async () => {
    const transport = createFetchTransport({ bank: 'sg', fetch: binding.fetch, timeoutMs: 200 });
    const error = await failure(transport.send({ method: 'GET', origin: bank.origin, path: '/slow', headers: {} }));
    expect(error.code).toBe('bank_timeout');
    expect(error.message).toContain('did not send its complete answer within 200 ms');
    expect(error.message).toContain('banks.sg.transport.timeouts.totalMs');
  });

  it('transport failures keep their codes; a bare fetch TypeError is bank_unreachable', async () => {
    const untrusted = createNodeTransport({ bank: 'sg', tls: { ca: pki.otherCaPem, cert: pki.client.certPem, key: pki.client.keyPem } });
    const viaUntrusted = createFetchTransport({ bank: 'sg', fetch: untrusted.fetch });
    expect((await failure(viaUntrusted.send({ method: 'GET', origin: bank.origin, path: '/', headers: {} }))).code).toBe('bank_certificate_untrusted');
    await untrusted.close();

    // What a Workers binding throws when the network fails: a TypeError with no code.
    const edge = createFetchTransport({ bank: 'sg', fetch: async () => Promise.reject(new TypeError('Network connection lost.')) });
    const error = await failure(edge.send({ method: 'GET', origin: bank.origin, path: '/', headers: {} }));
    expect(error.code).toBe('bank_unreachable');
    expect((await failure(edge.fetch(`${bank.origin}/token`))).code).toBe('bank_unreachable');
  });

  it('refuses a path that would read as another host', async () => {
    const transport = createFetchTransport({ bank: 'sg', fetch: binding.fetch });
    const error = await failure(transport.send({ method: 'GET', origin: bank.origin, path: '//evil.example/x', headers: {} }));
    expect(error.code).toBe('internal_error');
  });

  it('close() runs the runtime hook; bad options fail at creation', async () => {
    let closed = false;
    await createFetchTransport({ bank: 'sg', fetch: binding.fetch, close: () => void (closed = true) }).close();
    expect(closed).toBe(true);
    expect(() => createFetchTransport({ bank: 'sg', fetch: binding.fetch, timeoutMs: -1 })).toThrow(
      expect.objectContaining({ code: 'config_invalid', message: expect.stringContaining('banks.sg.timeoutMs') }),
    );
  });

  // Issue 15 item 4: the OAuth calls (token, PAR, discovery, JWKS) go through `fetch`; its attempt ends at
  // timeoutMs (the runtimes' transport.timeouts.totalMs), headers and body, as send()'s does. The binding here
  // streams, as a Workers binding or Deno's fetch does: undici's fetch over an mTLS Agent, no deadline of its own.
  describe('fetch under the attempt deadline', () => {
    const TIMEOUT_MS = 800;
    let streaming: Agent;
    let slowBank: Upstream;
    beforeAll(async () => {
      streaming = new Agent({ connect: { ca: pki.caPem, cert: pki.client.certPem, key: pki.client.keyPem }, headersTimeout: 120_000, bodyTimeout: 120_000 });
      slowBank = await startUpstream({ cert: pki.server.certPem, key: pki.server.keyPem, ca: pki.caPem }, (request, res) => {
        if (request.url === '/silent') return;
        // A byte every 200 ms: never idle long enough for an idle timeout, 200 s for the whole body.
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': '1000' });
        const tick = setInterval(() => res.write(' '), 200);
        res.on('close', () => clearInterval(tick));
      });
    });
    afterAll(async () => {
      await streaming.close();
      await slowBank.close();
    });
    const edge = () =>
      createFetchTransport({
        bank: 'sg',
        fetch: ((input: string | URL, init?: RequestInit) => undiciFetch(input, { ...init, dispatcher: streaming } as Parameters<typeof undiciFetch>[1])) as unknown as typeof fetch,
        timeoutMs: TIMEOUT_MS,
      });

    it.each(['/trickle', '/silent'])('%s token endpoint → bank_timeout at timeoutMs naming transport.timeouts.totalMs', async (path) => {
      const started = performance.now();
      const error = await failure(edge().fetch(`${slowBank.origin}${path}`, { method: 'POST', body: 'grant_type=authorization_code' }));
      const tookMs = performance.now() - started;
      expect(error.code).toBe('bank_timeout');
      expect(error.status).toBe(504);
      expect(error.extra).toEqual({ reason: 'ERR_BANKGATE_FETCH_TIMEOUT' });
      expect(error.message).toContain(`did not send its complete answer within ${TIMEOUT_MS} ms`);
      expect(error.message).toContain('banks.sg.transport.timeouts.totalMs');
      expect(tookMs).toBeGreaterThanOrEqual(TIMEOUT_MS - 20);
      expect(tookMs).toBeLessThan(20_000);
    });

    it("the caller's abort is rethrown as is", async () => {
      const controller = new AbortController();
      const pending = edge().fetch(`${slowBank.origin}/silent`, { signal: controller.signal });
      setTimeout(() => controller.abort(), 50);
      const error = await pending.catch((e: unknown) => e);
      expect(error).not.toBeInstanceOf(BankgateError);
      expect((error as Error).name).toBe('AbortError');
    });

    it('a complete answer is handed over whole, status and headers kept', async () => {
      const res = await edge().fetch(`${bank.origin}/token`, { method: 'POST' });
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe('application/json');
      expect(await res.json()).toMatchObject({ url: '/token', thumbprint: certificateThumbprint(pki.client.certPem) });
    });
  });
});
