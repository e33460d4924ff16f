import { createSecureContext, type TLSSocket } from 'node:tls';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { BankgateError } from '../../../errors/bankgate-error.js';
import { classifyAttemptFailure } from '../../../tokens/refresh-outcome.js';
import { probeHandshake } from './handshake-probe.js';
import { createNodeTransport } from './node-transport.js';
import { createTestPki, startUpstream, type TestPki, type Upstream } from './upstream.fixture.js';
import { failure } from '../../../transport/failure.fixture.js';

// soak-103: the token endpoint closed the connection (sandbox token fault `close`) and the gateway reported a
// refused certificate. A closed connection is a certificate refusal only on evidence (handshake-probe.ts).

let pki: TestPki;
const opened: Upstream[] = [];
beforeAll(async () => {
  pki = await createTestPki();
});
afterEach(async () => {
  await Promise.all(opened.splice(0).map((u) => u.close()));
});

async function upstream(...args: Parameters<typeof startUpstream>): Promise<Upstream> {
  const u = await startUpstream(...args);
  opened.push(u);
  return u;
}

const trusted = () => ({ ca: pki.caPem, cert: pki.client.certPem, key: pki.client.keyPem });

describe.each(['TLSv1.3', 'TLSv1.2'] as const)('a bank that closes the connection without an alert (%s)', (maxVersion) => {
  const server = () => ({ cert: pki.server.certPem, key: pki.server.keyPem, ca: pki.caPem, maxVersion });

  it('the token endpoint reads the request and destroys the socket (token fault `close`) → bank_unreachable, an unknown outcome', async () => {
    // What sandbox/token-faults.ts does for `close`: the body is read, then the socket destroyed.
    const u = await upstream(server(), (request, res) => (request.url === '/token' ? request.raw.socket.destroy() : res.end('ok')));
    const t = createNodeTransport({ bank: 'sg', tls: trusted() });
    try {
      for (let attempt = 0; attempt < 3; attempt++) {
        const sent = await failure(t.send({ method: 'POST', origin: u.origin, path: '/token', headers: {}, body: Buffer.from('grant_type=refresh_token') }));
        expect(sent.code).toBe('bank_unreachable');
        // undici's own "other side closed" when it saw the close first; ours when the probe had to decide.
        expect(['UND_ERR_SOCKET', 'ERR_BANKGATE_CONNECTION_CLOSED']).toContain(sent.extra?.reason);
        expect(sent.message).toContain(`bank sg at ${u.origin} closed the connection before answering (`);
        expect(classifyAttemptFailure(sent)).toBe('unknown');
        // oauth4webapi calls the token endpoint through fetch.
        const fetched = await failure(t.fetch(`${u.origin}/token`, { method: 'POST', body: 'grant_type=refresh_token' }));
        expect(fetched.code).toBe('bank_unreachable');
        expect(['UND_ERR_SOCKET', 'ERR_BANKGATE_CONNECTION_CLOSED']).toContain(fetched.extra?.reason);
      }
      expect(u.received.filter((r) => r.url === '/token')).toHaveLength(6);
    } finally {
      await t.close();
    }
  });

  it('closed right after the handshake (first connection only) → bank_unreachable', async () => {
    const u = await upstream(server());
    let connections = 0;
    const t = createNodeTransport({ bank: 'sg', tls: trusted() });
    try {
      u.server.on('secureConnection', (socket: TLSSocket) => {
        if (connections++ === 0) socket.destroy();
      });
      const error = await failure(t.send({ method: 'GET', origin: u.origin, path: '/', headers: {} }));
      expect(error.code).toBe('bank_unreachable');
      expect(error.extra).toEqual({ reason: 'ERR_BANKGATE_CONNECTION_CLOSED' });
      expect(connections).toBe(2);
      // The second connection is the diagnostic one (TLS 1.3 may have read the GET before the hang-up).
      expect(u.received.at(-1)?.method).toBe('HEAD');
    } finally {
      await t.close();
    }
  });

  it('closed during the handshake (first connection only) → bank_unreachable', async () => {
    const u = await upstream(server());
    let handshakes = 0;
    const t = createNodeTransport({ bank: 'sg', tls: trusted() });
    try {
      // The server logs its first secret mid-handshake: hang up there, without an alert.
      u.server.on('keylog', (_line: Buffer, socket: TLSSocket) => {
        if (handshakes++ === 0) socket.destroy();
      });
      const error = await failure(t.send({ method: 'GET', origin: u.origin, path: '/', headers: {} }));
      expect(error.code).toBe('bank_unreachable');
      expect(error.extra).toEqual({ reason: 'ERR_BANKGATE_CONNECTION_CLOSED' });
    } finally {
      await t.close();
    }
  });

  it('a certificate the bank refuses (closed right after the handshake, no alert) stays bank_tls_error', async () => {
    const u = await upstream(server());
    const t = createNodeTransport({ bank: 'sg', tls: { ca: pki.caPem, cert: pki.untrustedClient.certPem, key: pki.untrustedClient.keyPem } });
    try {
      const error = await failure(t.send({ method: 'POST', origin: u.origin, path: '/token', headers: {}, body: Buffer.from('a=b') }));
      expect(error.code).toBe('bank_tls_error');
      expect(error.message).toMatch(/^bank sg rejected the TLS handshake: .*client certificate is missing or not trusted/);
      expect(u.received).toHaveLength(0);
    } finally {
      await t.close();
    }
  });
});

describe('probeHandshake', () => {
  it('accepted certificate → not refused; untrusted one → refused; no certificate → refused with the alert', async () => {
    const u = await upstream({ cert: pki.server.certPem, key: pki.server.keyPem, ca: pki.caPem });
    const probe = (tls: { cert?: string; key?: string }) =>
      probeHandshake({ origin: u.origin, secureContext: createSecureContext({ ca: pki.caPem, ...tls }), timeoutMs: 10_000 });
    expect(await probe({ cert: pki.client.certPem, key: pki.client.keyPem })).toEqual({ refused: false });
    expect(await probe({ cert: pki.untrustedClient.certPem, key: pki.untrustedClient.keyPem })).toEqual({ refused: true });
    const none = await probe({});
    expect(none.refused).toBe(true);
    expect(none.refused && (none.alert as Error & { code?: string } | undefined)?.code).toBe('ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED');
  });

  it('a port where nothing listens is no evidence of a refusal', async () => {
    const u = await upstream({ cert: pki.server.certPem, key: pki.server.keyPem, ca: pki.caPem });
    const origin = u.origin;
    await u.close();
    opened.splice(opened.indexOf(u), 1);
    expect(await probeHandshake({ origin, secureContext: createSecureContext({ ca: pki.caPem }), timeoutMs: 10_000 })).toEqual({ refused: false });
  });

  it('a bank that accepts TLS and never answers the HEAD: no verdict within timeoutMs, or once the signal aborts', async () => {
    const u = await upstream({ cert: pki.server.certPem, key: pki.server.keyPem, ca: pki.caPem }, () => {});
    const secureContext = createSecureContext({ ca: pki.caPem, cert: pki.client.certPem, key: pki.client.keyPem });
    let started = performance.now();
    expect(await probeHandshake({ origin: u.origin, secureContext, timeoutMs: 300 })).toEqual({ refused: false });
    expect(performance.now() - started).toBeGreaterThanOrEqual(280);
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 100);
    started = performance.now();
    expect(await probeHandshake({ origin: u.origin, secureContext, timeoutMs: 60_000, signal: controller.signal })).toEqual({ refused: false });
    expect(performance.now() - started).toBeLessThan(30_000);
    expect(await probeHandshake({ origin: u.origin, secureContext, timeoutMs: 60_000, signal: AbortSignal.abort() })).toEqual({ refused: false });
  });
});

// Issue 15 item 4: the probe runs on failing calls only; a bank that drops the call and then accepts the probe's
// TLS but never answers its HEAD must not hold the error for connectMs + headersMs (40 s by default).
describe('the probe is bounded', () => {
  /** Drops every request without a byte of answer; the probe's HEAD is read and never answered. */
  const dropsCallsIgnoresProbes = () =>
    upstream({ cert: pki.server.certPem, key: pki.server.keyPem, ca: pki.caPem }, (request) => {
      if (request.method !== 'HEAD') request.raw.socket.destroy();
    });

  it.each(['send', 'fetch'] as const)('%s: by a short budget, min(connectMs, 3 s) → bank_unreachable ERR_BANKGATE_CONNECTION_CLOSED', async (how) => {
    const u = await dropsCallsIgnoresProbes();
    // connectMs 500: the budget is 500 ms; before, the probe waited connectMs + headersMs (30.5 s here).
    const t = createNodeTransport({ bank: 'sg', tls: trusted(), timeouts: { connectMs: 500 } });
    try {
      const started = performance.now();
      const error = await failure(how === 'send' ? t.send({ method: 'POST', origin: u.origin, path: '/token', headers: {}, body: Buffer.from('a=b') }) : t.fetch(`${u.origin}/token`, { method: 'POST', body: 'a=b' }));
      const tookMs = performance.now() - started;
      expect(error.code).toBe('bank_unreachable');
      expect(error.extra).toEqual({ reason: 'ERR_BANKGATE_CONNECTION_CLOSED' });
      expect(u.received.filter((r) => r.method === 'HEAD')).toHaveLength(1);
      expect(tookMs).toBeLessThan(15_000);
    } finally {
      await t.close();
    }
  });

  it.each(['send', 'fetch'] as const)("%s: by the caller's signal, which cuts the probe short → still bank_unreachable ERR_BANKGATE_CONNECTION_CLOSED", async (how) => {
    const u = await dropsCallsIgnoresProbes();
    // The default budget (min(10 s, 3 s)) would hold the error 3 s; the caller gives up 300 ms in.
    const t = createNodeTransport({ bank: 'sg', tls: trusted() });
    const controller = new AbortController();
    let abortedAt = 0;
    try {
      u.server.on('request', (request: { method?: string }) => {
        if (request.method === 'HEAD') setTimeout(() => ((abortedAt = performance.now()), controller.abort()), 100);
      });
      const { signal } = controller;
      const error = await failure(how === 'send' ? t.send({ method: 'POST', origin: u.origin, path: '/token', headers: {}, body: Buffer.from('a=b'), signal }) : t.fetch(`${u.origin}/token`, { method: 'POST', body: 'a=b', signal }));
      const afterAbortMs = performance.now() - abortedAt;
      expect(error.code).toBe('bank_unreachable');
      expect(error.extra).toEqual({ reason: 'ERR_BANKGATE_CONNECTION_CLOSED' });
      expect(controller.signal.aborted).toBe(true);
      // Answered on the abort, not when the 3 s budget ran out (~2.9 s after it).
      expect(afterAbortMs).toBeLessThan(1_500);
    } finally {
      await t.close();
    }
  });
});
