import { createPrivateKey, generateKeyPairSync, X509Certificate } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createCertificateAuthority } from '../../sandbox/pki.js';
import { readCertificatePem } from './certificate.js';
import { isEncryptedPem, PrivateKeyError, readPrivateKeyPem } from './private-key.js';
import { rsaPublicOfPkcs8, rsaPublicOfSpki, sameRsaPublicKey } from './rsa.js';

describe('readPrivateKeyPem: PEM keys as WebCrypto imports them (PKCS#8)', () => {
  it('PKCS#8 of every algorithm, named; PKCS#1 RSA wrapped into the PKCS#8 node:crypto writes', () => {
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
    const pkcs8 = rsa.export({ type: 'pkcs8', format: 'der' });
    const fromPkcs1 = readPrivateKeyPem(rsa.export({ type: 'pkcs1', format: 'pem' }).toString());
    expect(fromPkcs1.algorithm).toBe('rsa');
    expect(Buffer.from(fromPkcs1.pkcs8).equals(pkcs8)).toBe(true);
    expect(readPrivateKeyPem(rsa.export({ type: 'pkcs8', format: 'pem' }).toString()).algorithm).toBe('rsa');
    const pem = (key: ReturnType<typeof createPrivateKey>) => key.export({ type: 'pkcs8', format: 'pem' }).toString();
    expect(readPrivateKeyPem(pem(generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey)).algorithm).toBe('ec');
    expect(readPrivateKeyPem(pem(generateKeyPairSync('ed25519').privateKey)).algorithm).toBe('ed25519');
    expect(readPrivateKeyPem(pem(generateKeyPairSync('rsa-pss', { modulusLength: 2048 }).privateKey)).algorithm).toBe('rsa-pss');
  });

  it('tells encrypted keys (PKCS#8 and legacy OpenSSL) from unreadable ones, never echoing the key', () => {
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
    const encrypted = rsa.export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase: 'pw' }).toString();
    const legacy = rsa.export({ type: 'pkcs1', format: 'pem', cipher: 'aes-256-cbc', passphrase: 'pw' }).toString();
    expect(isEncryptedPem(encrypted)).toBe(true);
    expect(isEncryptedPem(legacy)).toBe(true);
    expect(isEncryptedPem(rsa.export({ type: 'pkcs8', format: 'pem' }).toString())).toBe(false);
    for (const text of [encrypted, legacy]) expect(() => readPrivateKeyPem(text)).toThrow(expect.objectContaining({ problem: 'encrypted' }));
    for (const text of ['no pem here', '-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----', '-----BEGIN RSA PRIVATE KEY-----\nMAA=\n-----END RSA PRIVATE KEY-----x']) {
      let error: unknown;
      try {
        readPrivateKeyPem(text);
      } catch (e) {
        error = e;
      }
      expect(error, text).toBeInstanceOf(PrivateKeyError);
      expect((error as PrivateKeyError).problem).toBe('unreadable');
      expect((error as Error).message).not.toContain('AAAA');
    }
  });
});

describe('readCertificatePem and the RSA public numbers', () => {
  it('finds the SubjectPublicKeyInfo node:crypto finds, and matches a key to its certificate', async () => {
    const ca = await createCertificateAuthority('der test CA');
    const [rsaLeaf, otherRsa, ecLeaf] = await Promise.all([ca.issueClient({ commonName: 'a', keyType: 'rsa' }), ca.issueClient({ commonName: 'b', keyType: 'rsa' }), ca.issueClient({ commonName: 'c' })]);
    for (const leaf of [rsaLeaf, ecLeaf, { certPem: ca.certPem }]) {
      const read = readCertificatePem(leaf.certPem)!;
      const x509 = new X509Certificate(leaf.certPem);
      expect(Buffer.from(read.der).equals(x509.raw)).toBe(true);
      expect(Buffer.from(read.spki).equals(x509.publicKey.export({ type: 'spki', format: 'der' }))).toBe(true);
    }
    expect(readCertificatePem(rsaLeaf.certPem)!.keyAlgorithm).toBe('rsa');
    expect(readCertificatePem(ecLeaf.certPem)!.keyAlgorithm).toBe('ec');
    const spki = readCertificatePem(rsaLeaf.certPem)!.spki;
    expect(sameRsaPublicKey(rsaPublicOfSpki(spki), rsaPublicOfPkcs8(readPrivateKeyPem(rsaLeaf.keyPem).pkcs8))).toBe(true);
    expect(sameRsaPublicKey(rsaPublicOfSpki(spki), rsaPublicOfPkcs8(readPrivateKeyPem(otherRsa.keyPem).pkcs8))).toBe(false);
    expect(readCertificatePem('garbage')).toBeUndefined();
    expect(readCertificatePem('-----BEGIN CERTIFICATE-----\nMAA=\n-----END CERTIFICATE-----')).toBeUndefined();
  });
});
