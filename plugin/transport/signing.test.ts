import { createHash, createPrivateKey, createSign, generateKeyPairSync, verify, X509Certificate } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { createCertificateAuthority, type PemPair } from '../../sandbox/pki.js';
import { BankgateError } from '../errors/bankgate-error.js';
import { createRequestSigner } from './request-signer.js';
import { prepareSigning, resolveSigningOptions } from './signing-options.js';
import { digestHeader, MissingSignedHeaderError, signatureHeader, signingString } from './signing.js';

/** Splits `keyId="a",algorithm="b",…` into its parameters. */
function params(header: string): Record<string, string> {
  return Object.fromEntries([...header.matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1]!, m[2]!]));
}

const rsa = (modulusLength: number) => generateKeyPairSync('rsa', { modulusLength });
const pkcs8Pem = (key: ReturnType<typeof rsa>['privateKey']) => key.export({ type: 'pkcs8', format: 'pem' }).toString();
const pkcs1Pem = (key: ReturnType<typeof rsa>['privateKey']) => key.export({ type: 'pkcs1', format: 'pem' }).toString();

describe('digestHeader', () => {
  it('is SHA-256=<base64> of the body; empty body digests the empty string', async () => {
    expect(await digestHeader(new Uint8Array(0))).toBe('SHA-256=47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=');
    const body = Buffer.from('{"instructedAmount":{"amount":"12.30"}}');
    expect(await digestHeader(body)).toBe(`SHA-256=${createHash('sha256').update(body).digest('base64')}`);
  });
});

describe('signatureHeader', () => {
  const headers = { digest: 'SHA-256=abc', 'x-request-id': ' 99391c7e ', date: 'Sun, 05 Jan 2025 21:31:40 GMT' };

  it('builds the draft-cavage signing string, one line per signed header', () => {
    expect(
      signingString({ method: 'POST', path: '/v1/payments?x=1', headers, signedHeaders: ['(request-target)', 'digest', 'x-request-id', 'date'] }),
    ).toBe(
      '(request-target): post /v1/payments?x=1\n' +
        'digest: SHA-256=abc\n' +
        'x-request-id: 99391c7e\n' +
        'date: Sun, 05 Jan 2025 21:31:40 GMT',
    );
  });

  it('signs it with rsa-sha256 and names keyId, algorithm and headers', async () => {
    const { privateKey, publicKey } = rsa(2048);
    const key = await prepareSigning({ keyId: 'qseal-1', key: pkcs8Pem(privateKey) }, 'banks.sg.signing').key;
    const signedHeaders = ['(request-target)', 'digest', 'x-request-id'];
    const header = await signatureHeader({ method: 'GET', path: '/accounts', headers, keyId: 'qseal-1', key, signedHeaders });
    expect(header).toMatch(/^keyId="qseal-1",algorithm="rsa-sha256",headers="\(request-target\) digest x-request-id",signature="[A-Za-z0-9+/]+=*"$/);
    const signed = signingString({ method: 'GET', path: '/accounts', headers, signedHeaders });
    expect(verify('sha256', Buffer.from(signed), publicKey, Buffer.from(params(header).signature!, 'base64'))).toBe(true);
  });

  it('gives the bytes node:crypto createSign gives (RSASSA-PKCS1-v1_5 is deterministic), for PKCS#8 and PKCS#1 keys of every size', async () => {
    const strings = ['', 'x', '(request-target): post /v1/payments?x=1\ndigest: SHA-256=abc', 'é€😀\n'.repeat(300)];
    for (const modulusLength of [2048, 3072, 4096]) {
      const { privateKey } = rsa(modulusLength);
      for (const pem of [pkcs8Pem(privateKey), pkcs1Pem(privateKey)]) {
        const key = await prepareSigning({ keyId: 'k', key: pem }, 'p').key;
        for (const text of strings) {
          const header = await signatureHeader({ method: 'GET', path: '/', headers: { 'x-text': text }, keyId: 'k', key, signedHeaders: ['x-text'] });
          const expected = createSign('sha256').update(signingString({ method: 'GET', path: '/', headers: { 'x-text': text }, signedHeaders: ['x-text'] }), 'utf8').sign(privateKey, 'base64');
          expect(params(header).signature, `${modulusLength} ${pem.slice(11, 26)}`).toBe(expected);
        }
      }
    }
  });

  it('throws MissingSignedHeaderError naming a missing header', async () => {
    const key = await prepareSigning({ keyId: 'k', key: pkcs8Pem(rsa(2048).privateKey) }, 'p').key;
    const error = await signatureHeader({ method: 'GET', path: '/', headers: {}, keyId: 'k', key, signedHeaders: ['x-request-id'] }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MissingSignedHeaderError);
    expect((error as MissingSignedHeaderError).header).toBe('x-request-id');
  });
});

describe('prepareSigning: checked when a factory runs, every problem under its path', () => {
  let seal: PemPair;
  let other: PemPair;
  let ec: PemPair;
  beforeAll(async () => {
    const ca = await createCertificateAuthority('signing test CA');
    [seal, other, ec] = await Promise.all([ca.issueClient({ commonName: 'qseal', keyType: 'rsa' }), ca.issueClient({ commonName: 'other', keyType: 'rsa' }), ca.issueClient({ commonName: 'ec' })]);
  });
  const problem = (run: () => unknown): string => {
    try {
      run();
    } catch (error) {
      expect(error).toBeInstanceOf(BankgateError);
      expect(error).toMatchObject({ code: 'config_invalid', status: 500 });
      return (error as Error).message;
    }
    throw new Error('expected config_invalid');
  };

  it('refuses what cannot sign rsa-sha256, naming the field', () => {
    expect(problem(() => prepareSigning({ keyId: 'k', key: ec.keyPem }, 'banks.sg.signing'))).toBe('banks.sg.signing.key: must be an RSA key for rsa-sha256 signatures, got ec');
    const bad = problem(() => prepareSigning({ keyId: 'k', key: '-----BEGIN PRIVATE KEY-----\nnope\n-----END PRIVATE KEY-----' }, 'banks.sg.signing'));
    expect(bad).toMatch(/^banks\.sg\.signing\.key: is not a readable private key/);
    expect(bad).not.toContain('nope');
    expect(problem(() => prepareSigning({ keyId: 'k', key: './qseal.key' }, 'banks.sg.signing'))).toMatch(/^banks\.sg\.signing\.key: must be the PEM text of a private key/);
    expect(problem(() => prepareSigning({ keyId: 'a"b', key: seal.keyPem }, 'banks.sg.signing'))).toMatch(/^banks\.sg\.signing\.keyId: /);
    expect(problem(() => prepareSigning({ keyId: 'k', key: seal.keyPem, headers: ['digest', 'signature'] }, 'banks.sg.signing'))).toBe('banks.sg.signing.headers: cannot sign the signature header itself');
    expect(problem(() => prepareSigning({ keyId: 'k', key: seal.keyPem, headers: [] }, 'banks.sg.signing'))).toMatch(/^banks\.sg\.signing\.headers: must be a non-empty list/);
  });

  it('checks the key against the QSeal certificate and sends its DER as TPP-Signature-Certificate', () => {
    expect(problem(() => prepareSigning({ keyId: 'k', key: other.keyPem, certificate: seal.certPem }, 'banks.sg.signing'))).toBe('banks.sg.signing.key: does not belong to the certificate in banks.sg.signing.certificate');
    expect(problem(() => prepareSigning({ keyId: 'k', key: seal.keyPem, certificate: ec.certPem }, 'banks.sg.signing'))).toBe('banks.sg.signing.key: does not belong to the certificate in banks.sg.signing.certificate');
    expect(problem(() => prepareSigning({ keyId: 'k', key: seal.keyPem, certificate: 'garbage' }, 'banks.sg.signing'))).toBe('banks.sg.signing.certificate: is not a valid PEM certificate');
    const signing = prepareSigning({ keyId: 'k', key: seal.keyPem, certificate: seal.certPem }, 'banks.sg.signing');
    expect(signing.certificateHeader).toBe(new X509Certificate(seal.certPem).raw.toString('base64'));
  });

  it('an encrypted key: refused with the way out where the runtime cannot decrypt, read where it can', async () => {
    const encrypted = createPrivateKey(seal.keyPem).export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase: 'pw' }).toString();
    const refused = problem(() => prepareSigning({ keyId: 'k', key: encrypted, passphrase: 'pw' }, 'banks.sg.signing', { runtime: 'workers' }));
    expect(refused).toMatch(/^banks\.sg\.signing\.key: is an encrypted private key, which the workers runtime cannot decrypt/);
    expect(refused).toContain('openssl pkcs8 -topk8 -nocrypt');
    const decrypt = (pem: string, passphrase: string | undefined) => createPrivateKey({ key: pem, passphrase }).export({ type: 'pkcs8', format: 'pem' }).toString();
    const signing = await resolveSigningOptions({ keyId: 'k', key: encrypted, passphrase: 'pw' }, 'banks.sg.signing', { decryptPrivateKey: decrypt });
    const header = await signatureHeader({ method: 'GET', path: '/', headers: {}, keyId: 'k', key: await signing.key, signedHeaders: ['(request-target)'] });
    expect(verify('sha256', Buffer.from('(request-target): get /'), seal.certPem, Buffer.from(params(header).signature!, 'base64'))).toBe(true);
    expect(problem(() => prepareSigning({ keyId: 'k', key: encrypted, passphrase: 'wrong' }, 'banks.sg.signing', { decryptPrivateKey: decrypt }))).toMatch(/^banks\.sg\.signing\.key: is not a readable private key \(ERR_OSSL_BAD_DECRYPT\); check the file and the passphrase/);
  });
});

describe('createRequestSigner', () => {
  it('adds digest, date, the certificate and a signature; a missing header to sign is missing_header naming the fix', async () => {
    const ca = await createCertificateAuthority('signer CA');
    const seal = await ca.issueClient({ commonName: 'qseal', keyType: 'rsa' });
    const sign = createRequestSigner('sg', prepareSigning({ keyId: 'kid', key: seal.keyPem, certificate: seal.certPem }, 'banks.sg.signing'), () => new Date('2025-01-05T21:31:40Z'));
    const body = new TextEncoder().encode('{"a":1}');
    const headers = await sign({ method: 'POST', path: '/p?q=1', headers: { 'x-request-id': 'r1', digest: 'SHA-256=forged' }, body });
    expect(headers.digest).toBe(`SHA-256=${createHash('sha256').update(body).digest('base64')}`);
    expect(headers.date).toBe('Sun, 05 Jan 2025 21:31:40 GMT');
    expect(headers['tpp-signature-certificate']).toMatch(/^MII/);
    const sig = params(headers.signature!);
    expect(sig).toMatchObject({ keyId: 'kid', algorithm: 'rsa-sha256', headers: '(request-target) digest x-request-id date' });
    const text = signingString({ method: 'POST', path: '/p?q=1', headers, signedHeaders: sig.headers!.split(' ') });
    expect(verify('sha256', Buffer.from(text), seal.certPem, Buffer.from(sig.signature!, 'base64'))).toBe(true);

    const error = await sign({ method: 'GET', path: '/', headers: {} }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'missing_header', status: 400, extra: { header: 'x-request-id' } });
    expect((error as Error).message).toContain('banks.sg.signing.headers');
  });
});
