import { createHash, createPrivateKey, createPublicKey, verify } from 'node:crypto';
import httpSignature from 'http-signature';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BankgateError } from '../../../errors/bankgate-error.js';
import type { BankTransport } from '../../../transport/types.js';
import { createNodeTransport } from './node-transport.js';
import { createTestPki, startUpstream, type ReceivedRequest, type TestPki, type Upstream } from './upstream.fixture.js';

/** Splits `keyId="a",algorithm="b",…` into its parameters. */
function params(header: string): Record<string, string> {
  return Object.fromEntries([...header.matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1]!, m[2]!]));
}

describe('createNodeTransport with signing', () => {
  let pki: TestPki;
  let bank: Upstream;
  let transport: BankTransport;
  let publicKeyPem: string;

  beforeAll(async () => {
    pki = await createTestPki();
    bank = await startUpstream({ cert: pki.server.certPem, key: pki.server.keyPem, ca: pki.caPem });
    publicKeyPem = createPublicKey(pki.sealing.certPem).export({ type: 'spki', format: 'pem' }).toString();
    transport = createNodeTransport({
      bank: 'sg',
      tls: { ca: pki.caPem, cert: pki.client.certPem, key: pki.client.keyPem },
      signing: { keyId: 'https://tpp.example/qseal.pem', key: pki.sealing.keyPem },
    });
  });
  afterAll(async () => {
    await transport.close();
    await bank.close();
  });

  function reconstruct(received: ReceivedRequest, signed: string[]): string {
    return signed
      .map((h) => (h === '(request-target)' ? `${h}: ${received.method.toLowerCase()} ${received.url}` : `${h}: ${received.headers[h] as string}`))
      .join('\n');
  }

  it('adds a Digest of the body and a Signature that verifies over the signing string', async () => {
    const body = Buffer.from('{"instructedAmount":{"currency":"EUR","amount":"12.30"}}');
    await transport.send({
      method: 'POST',
      origin: bank.origin,
      path: '/pisp/v1/payment-requests?lang=fr',
      headers: { 'x-request-id': 'c4e1e3d6', 'content-type': 'application/json', digest: 'SHA-256=forged' },
      body,
    });
    const received = bank.received.at(-1)!;
    expect(received.headers.digest).toBe(`SHA-256=${createHash('sha256').update(body).digest('base64')}`);
    const sig = params(received.headers.signature as string);
    // `date` is signed by default, and added when the request has none.
    expect(sig).toMatchObject({ keyId: 'https://tpp.example/qseal.pem', algorithm: 'rsa-sha256', headers: '(request-target) digest x-request-id date' });
    expect(Date.parse(received.headers.date as string)).toBeGreaterThan(Date.now() - 60_000);
    const signed = reconstruct(received, sig.headers!.split(' '));
    expect(signed.split('\n')[0]).toBe('(request-target): post /pisp/v1/payment-requests?lang=fr');
    expect(verify('sha256', Buffer.from(signed), publicKeyPem, Buffer.from(sig.signature!, 'base64'))).toBe(true);
  });

  it('is accepted by an independent verifier (joyent http-signature)', async () => {
    await transport.send({
      method: 'POST',
      origin: bank.origin,
      path: '/pisp/v1/payment-requests',
      headers: { 'x-request-id': 'b7a0', date: new Date().toUTCString() },
      body: Buffer.from('{}'),
    });
    const received = bank.received.at(-1)!;
    const parsed = httpSignature.parseRequest(received.raw as never, {
      headers: ['(request-target)', 'digest', 'x-request-id', 'date'],
    });
    expect(parsed.params.keyId).toBe('https://tpp.example/qseal.pem');
    expect(httpSignature.verifySignature(parsed, publicKeyPem)).toBe(true);
    // And a tampered digest does not verify.
    const tampered = httpSignature.parseRequest({ ...received.raw, headers: { ...received.headers, digest: 'SHA-256=x' } } as never, {
      headers: ['(request-target)', 'digest', 'x-request-id', 'date'],
    });
    expect(httpSignature.verifySignature(tampered, publicKeyPem)).toBe(false);
  });

  it('signs an empty body with the digest of empty bytes', async () => {
    await transport.send({ method: 'GET', origin: bank.origin, path: '/aisp/v1/accounts', headers: { 'x-request-id': 'e1' } });
    const received = bank.received.at(-1)!;
    expect(received.headers.digest).toBe('SHA-256=47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=');
    const parsed = httpSignature.parseRequest(received.raw as never, { headers: ['(request-target)', 'digest', 'x-request-id'] });
    expect(httpSignature.verifySignature(parsed, publicKeyPem)).toBe(true);
  });

  it('no x-request-id → missing_header naming it, and nothing is sent', async () => {
    const before = bank.received.length;
    const error = await transport.send({ method: 'GET', origin: bank.origin, path: '/aisp/v1/accounts', headers: {} }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BankgateError);
    expect((error as BankgateError).code).toBe('missing_header');
    expect((error as BankgateError).status).toBe(400);
    expect((error as BankgateError).extra).toEqual({ header: 'x-request-id' });
    expect((error as BankgateError).message).toContain('x-request-id');
    expect((error as BankgateError).message).toContain('banks.sg.signing.headers');
    expect(bank.received.length).toBe(before);
  });

  it('signs exactly the configured headers', async () => {
    const t = createNodeTransport({
      bank: 'sg',
      tls: { ca: pki.caPem, cert: pki.client.certPem, key: pki.client.keyPem },
      signing: { keyId: 'k2', key: pki.sealing.keyPem, headers: ['(request-target)', 'Digest', 'psu-ip-address'] },
    });
    await t.send({ method: 'GET', origin: bank.origin, path: '/', headers: { 'psu-ip-address': '192.0.2.1' } });
    await t.close();
    const received = bank.received.at(-1)!;
    const sig = params(received.headers.signature as string);
    expect(sig.headers).toBe('(request-target) digest psu-ip-address');
    const parsed = httpSignature.parseRequest(received.raw as never, { headers: ['(request-target)', 'digest', 'psu-ip-address'] });
    expect(httpSignature.verifySignature(parsed, publicKeyPem)).toBe(true);
  });

  it('reads an encrypted QSeal key (decrypted with node:crypto for WebCrypto)', async () => {
    const encrypted = createPrivateKey(pki.sealing.keyPem).export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase: 'pw' }).toString();
    const t = createNodeTransport({ bank: 'sg', tls: { ca: pki.caPem, cert: pki.client.certPem, key: pki.client.keyPem }, signing: { keyId: 'k3', key: encrypted, passphrase: 'pw' } });
    await t.send({ method: 'GET', origin: bank.origin, path: '/enc', headers: { 'x-request-id': 'e2' } });
    await t.close();
    const parsed = httpSignature.parseRequest(bank.received.at(-1)!.raw as never, { headers: ['(request-target)', 'digest', 'x-request-id'] });
    expect(httpSignature.verifySignature(parsed, publicKeyPem)).toBe(true);
  });

  it('parses the key once, in the factory: a bad key is a config error, not a request error', () => {
    const ecKey = createPrivateKey(pki.client.keyPem).export({ type: 'pkcs8', format: 'pem' }).toString();
    expect(() =>
      createNodeTransport({
        bank: 'sg',
        tls: { cert: pki.client.certPem, key: pki.client.keyPem },
        signing: { keyId: 'k', key: ecKey },
      }),
    ).toThrow(expect.objectContaining({ code: 'config_invalid', message: expect.stringContaining('banks.sg.signing.key: must be an RSA key') }));
  });
});
