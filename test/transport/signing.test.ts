/**
 * Request signing against the SG-like sandbox bank, which verifies Digest, Signature and
 * TPP-Signature-Certificate like the bank: our signed calls through the gateway are accepted, and the same
 * signed request with one byte of its body changed is refused.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createNodeTransport } from '../../plugin/adapter/node/transport/node-transport.js';
import { createRequestSigner } from '../../plugin/transport/request-signer.js';
import type { BankTransport } from '../../plugin/transport/types.js';
import { startHarness, type Harness } from '../e2e/harness.js';
import { bankPath, SG_PAYMENT } from './sandbox-faults.js';

describe('signed calls at the SG-like bank', () => {
  let h: Harness;
  let raw: BankTransport;
  let sealCertPem: string;
  beforeAll(async () => {
    h = await startHarness({
      adjust: (config, sandbox) => {
        config.banks.sg!.signing = { ...config.banks.sg!.signing!, certificate: { file: sandbox.banks.sg.signing!.certFile } };
      },
    });
    sealCertPem = readFileSync(h.sandbox.banks.sg.signing!.certFile, 'utf8');
    // The same client identity as the gateway's, without signing: the test signs, then tampers.
    const files = h.sandbox.banks.sg.mtls;
    raw = createNodeTransport({ bank: 'sg', tls: { cert: readFileSync(files.certFile, 'utf8'), key: readFileSync(files.keyFile, 'utf8'), ca: readFileSync(h.sandbox.caFile, 'utf8') } });
  });
  afterAll(async () => {
    await raw?.close();
    await h?.close();
  });

  it('accepts our signed payment request, with Date and TPP-Signature-Certificate', async () => {
    const created = await h.call('/sg/pisp/payment-requests', { method: 'POST', body: SG_PAYMENT });
    expect(created.status).toBe(201);
    const seen = (await h.bankRequests('sg')).at(-1)!;
    expect(seen.status).toBe(201);
    expect(seen.headers.signature).toMatch(/headers="\(request-target\) digest x-request-id date"/);
    expect(Date.parse(seen.headers.date!)).toBeGreaterThan(Date.now() - 60_000);
    expect(seen.headers['tpp-signature-certificate']).toBe(new X509Certificate(sealCertPem).raw.toString('base64'));
  });

  async function signedPost(tamper: (body: Uint8Array, headers: Record<string, string>) => void): Promise<{ status: number; body: Record<string, unknown> }> {
    const sg = h.gateway.config.banks.get('sg')!;
    const route = sg.apis.get('pisp')!.manifest.routes.find((r) => r.operationId === 'paymentRequestsPost')!;
    const token = await h.gateway.engine.clientAccessToken('sg', route.scopes);
    const path = `${bankPath(h.sandbox, 'sg', 'pisp')}/payment-requests`;
    const body = new Uint8Array(Buffer.from(JSON.stringify(SG_PAYMENT)));
    // The gateway's own resolved signing (the QSeal key in WebCrypto, the certificate header).
    const sign = createRequestSigner('sg', sg.signing!);
    const headers = await sign({
      method: 'POST',
      path,
      headers: { 'x-request-id': crypto.randomUUID(), 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body,
    });
    tamper(body, headers);
    const response = await raw.send({ method: 'POST', origin: new URL(h.sandbox.banks.sg.apis.pisp!).origin, path, headers, body });
    return { status: response.status, body: JSON.parse(Buffer.from(response.body).toString('utf8')) as Record<string, unknown> };
  }

  it('the signed request as is: accepted (the test signs correctly)', async () => {
    expect((await signedPost(() => {})).status).toBe(201);
  });

  it('one byte of the body changed after signing: refused', async () => {
    const refused = await signedPost((body) => {
      body[body.length - 2] ^= 0x01;
    });
    expect(refused.status).toBe(401);
    expect(refused.body).toMatchObject({ error: 'invalid_signature', message: 'signature: the Digest header does not match the request body' });
  });

  it('a forged digest for the changed body: the signature no longer verifies', async () => {
    const { createHash } = await import('node:crypto');
    const refused = await signedPost((body, headers) => {
      body[10] ^= 0x01;
      headers.digest = `SHA-256=${createHash('sha256').update(body).digest('base64')}`;
    });
    expect(refused.status).toBe(401);
    expect(refused.body.message).toBe('signature: the signature does not verify with the QSeal certificate of keyId');
  });

  it('another certificate in TPP-Signature-Certificate: refused', async () => {
    const refused = await signedPost((_body, headers) => {
      headers['tpp-signature-certificate'] = new X509Certificate(readFileSync(h.sandbox.banks.sg.mtls.certFile, 'utf8')).raw.toString('base64');
    });
    expect(refused.status).toBe(401);
    expect(refused.body.message).toMatch(/TPP-Signature-Certificate/);
  });
});
