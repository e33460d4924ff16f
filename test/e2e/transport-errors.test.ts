import { afterEach, describe, expect, it } from 'vitest';
import { ConfigError } from '../../plugin/index.js';
import { problemOf, startHarness, type Harness } from './harness.js';

describe('client certificate problems are named, with the bank and the cause', () => {
  let h: Harness | undefined;
  afterEach(async () => {
    await h?.close();
    h = undefined;
  });

  it('a client certificate the bank does not trust → 502 bank_tls_error naming the bank', async () => {
    h = await startHarness({
      adjust: (config, sandbox) => {
        config.banks.seb!.mtls = { ...config.banks.seb!.mtls, cert: { file: sandbox.untrustedClientCert.certFile }, key: { file: sandbox.untrustedClientCert.keyFile } };
      },
    });
    // The client-credentials-free path: a PSU call needs a connection, whose consent also needs the
    // token endpoint; SEB's resource server is where the QWAC is checked, so use a token-less failure:
    const created = await h.call('/connections', { method: 'POST', body: { bank: 'seb', connectionId: 'x' } });
    expect(created.status).toBe(201); // the authorize URL needs no TLS to the bank (static endpoints)
    // Any resource call fails at the TLS layer before a token matters; force it with a stored token.
    await h.gateway.engine.store.put({ ...(await h.gateway.engine.store.get('x'))!, status: 'active', tokens: { accessToken: 'a', refreshToken: 'r', expiresAt: Date.now() + 3_600_000, expiresIn: 3600 } });
    const response = await h.call('/seb/ais/accounts', { headers: { 'x-connection-id': 'x', 'psu-ip-address': '203.0.113.7' } });
    expect(response.status).toBe(502);
    const problem = await problemOf(response);
    expect(problem.code).toBe('bank_tls_error');
    expect(problem.bank).toBe('seb');
    expect(problem.detail).toMatch(/seb/);
    expect(problem.detail).toMatch(/certificate/i);
  });

  it('a missing client certificate is refused at start, naming the config path', async () => {
    await expect(
      startHarness({
        adjust: (config) => {
          config.banks.sg!.mtls = { ...config.banks.sg!.mtls, cert: { file: '/nonexistent/qwac.pem' } };
        },
      }),
    ).rejects.toSatisfy((error: unknown) => error instanceof ConfigError && error.problems.some((p) => p.includes('banks.sg.mtls.cert') && p.includes('not found')));
  });

  it('SG token endpoint with the wrong certificate → the consent fails with a problem naming sg', async () => {
    h = await startHarness({
      adjust: (config, sandbox) => {
        config.banks.sg!.mtls = { ...config.banks.sg!.mtls, cert: { file: sandbox.untrustedClientCert.certFile }, key: { file: sandbox.untrustedClientCert.keyFile } };
      },
    });
    const created = await h.call('/connections', { method: 'POST', body: { bank: 'sg' } });
    // Discovery is on the non-mTLS host and works; the failure shows when the token endpoint is used.
    expect([201, 502]).toContain(created.status);
    if (created.status === 502) {
      const problem = await problemOf(created);
      expect(problem.bank).toBe('sg');
      return;
    }
    const payment = await h.call('/sg/pisp/payment-requests/abc');
    expect(payment.status).toBe(502);
    const problem = await problemOf(payment);
    expect(problem.bank).toBe('sg');
    expect(['bank_tls_error', 'bank_auth_error']).toContain(problem.code);
    expect(problem.detail).toMatch(/sg/);
  });
});
