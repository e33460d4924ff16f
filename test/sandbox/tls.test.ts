import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestSandbox, type TestSandbox } from './helpers.js';

/** The handshake error undici reports when the server refuses the client certificate (TLS 1.3 alerts arrive late). */
function tlsFailure(error: unknown): string | undefined {
  return (error as { cause?: { code?: string } }).cause?.code;
}

describe('sandbox resource servers enforce mTLS at the handshake', () => {
  let sandbox: TestSandbox;

  beforeAll(async () => {
    sandbox = await startTestSandbox();
  });
  afterAll(async () => {
    await sandbox?.close();
  });

  for (const [bank, api] of [
    ['seb', 'ais'],
    ['sg', 'aisp'],
  ] as const) {
    it(`${bank}: no client certificate → the TLS handshake fails`, async () => {
      const url = `${sandbox.file.banks[bank].apis[api]}/accounts`;
      const error = await sandbox.fetch(sandbox.agents.none, url).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(TypeError);
      expect(tlsFailure(error)).toMatch(/^(ECONNRESET|ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED|UND_ERR_SOCKET|EPIPE)$/);
    });

    it(`${bank}: a certificate of an untrusted CA → the TLS handshake fails`, async () => {
      const url = `${sandbox.file.banks[bank].apis[api]}/accounts`;
      const error = await sandbox.fetch(sandbox.agents.untrusted, url).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(TypeError);
      expect(tlsFailure(error)).toMatch(/^(ECONNRESET|ERR_SSL_TLSV1_ALERT_UNKNOWN_CA|UND_ERR_SOCKET|EPIPE)$/);
    });

    it(`${bank}: the gateway's certificate passes the handshake (then the bank wants a token)`, async () => {
      const url = `${sandbox.file.banks[bank].apis[api]}/accounts`;
      const response = await sandbox.fetch(sandbox.agents[bank], url);
      expect(response.status).toBe(400); // X-Request-ID and the other required headers are missing
    });
  }
});
