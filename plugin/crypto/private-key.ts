/**
 * PEM private keys as WebCrypto imports them: PKCS#8 DER. A PKCS#1 RSA key (`BEGIN RSA PRIVATE KEY`) is
 * wrapped into PKCS#8 here; an encrypted key (PKCS#8 `ENCRYPTED PRIVATE KEY`, or OpenSSL's legacy
 * `Proc-Type: 4,ENCRYPTED`) cannot be, as WebCrypto has no password-based decryption: a runtime adapter that
 * can (Node) decrypts it first.
 */
import { childrenOf, contentOf, DER_TAG, DerError, encodeElement, readElement } from './der.js';
import { pemBlocks } from './pem.js';

export type KeyAlgorithm = 'rsa' | 'rsa-pss' | 'ec' | 'ed25519' | 'ed448' | 'dsa' | 'unknown';

export interface PrivateKeyDer {
  /** PKCS#8 `PrivateKeyInfo`. */
  readonly pkcs8: Uint8Array;
  readonly algorithm: KeyAlgorithm;
}

export type PrivateKeyProblem = 'encrypted' | 'unreadable';

/** Why a PEM key could not be read: `encrypted` (needs a runtime that decrypts), `unreadable` (not a key). */
export class PrivateKeyError extends Error {
  constructor(readonly problem: PrivateKeyProblem, message: string) {
    super(message);
    this.name = 'PrivateKeyError';
  }
}

/** DER content of the algorithm OIDs a key may carry (RFC 8017, RFC 5480, RFC 8410, RFC 3279). */
const ALGORITHMS: Record<string, KeyAlgorithm> = {
  '2a864886f70d010101': 'rsa',
  '2a864886f70d01010a': 'rsa-pss',
  '2a8648ce3d0201': 'ec',
  '2b6570': 'ed25519',
  '2b6571': 'ed448',
  '2a8648ce380401': 'dsa',
};
const RSA_ENCRYPTION_OID = new Uint8Array([0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01]);

/** Whether a PEM text holds an encrypted private key (so a passphrase and a decrypting runtime are needed). */
export function isEncryptedPem(pem: string): boolean {
  return pemBlocks(pem).some((block) => block.label === 'ENCRYPTED PRIVATE KEY' || /ENCRYPTED/.test(block.headers['Proc-Type'] ?? ''));
}

/** Reads the first private key of a PEM text as PKCS#8. Throws `PrivateKeyError`; never echoes the key. */
export function readPrivateKeyPem(pem: string): PrivateKeyDer {
  if (isEncryptedPem(pem)) throw new PrivateKeyError('encrypted', 'is an encrypted private key');
  const block = pemBlocks(pem).find((b) => b.label === 'PRIVATE KEY' || b.label === 'RSA PRIVATE KEY');
  if (!block) throw new PrivateKeyError('unreadable', 'holds no PEM private key (-----BEGIN PRIVATE KEY----- or -----BEGIN RSA PRIVATE KEY-----)');
  try {
    if (block.label === 'RSA PRIVATE KEY') {
      // RSAPrivateKey ::= SEQUENCE { version, n, e, d, p, q, dP, dQ, qInv, … } (RFC 8017 A.1.2): checked before it is wrapped.
      const key = readElement(block.der);
      const fields = childrenOf(block.der, key);
      if (key.tag !== DER_TAG.sequence || key.end !== block.der.length || fields.length < 9 || fields.slice(0, 9).some((f) => f.tag !== DER_TAG.integer)) throw new DerError('not an RSAPrivateKey');
      return { pkcs8: wrapPkcs1(block.der), algorithm: 'rsa' };
    }
    return { pkcs8: block.der, algorithm: algorithmOfPkcs8(block.der) };
  } catch (error) {
    if (error instanceof DerError) throw new PrivateKeyError('unreadable', 'is not a readable private key (bad DER)');
    throw error;
  }
}

/** The algorithm of a PKCS#8 `PrivateKeyInfo` (version, AlgorithmIdentifier, key). */
function algorithmOfPkcs8(der: Uint8Array): KeyAlgorithm {
  const info = readElement(der);
  const [version, algorithm] = childrenOf(der, info);
  if (info.tag !== DER_TAG.sequence || version?.tag !== DER_TAG.integer || algorithm?.tag !== DER_TAG.sequence) throw new DerError('not a PrivateKeyInfo');
  return algorithmOf(der, algorithm);
}

/** The algorithm an AlgorithmIdentifier names (also the first member of a SubjectPublicKeyInfo). */
export function algorithmOf(der: Uint8Array, algorithmIdentifier: { tag: number; start: number; contentStart: number; end: number }): KeyAlgorithm {
  const oid = childrenOf(der, algorithmIdentifier)[0];
  if (oid?.tag !== DER_TAG.oid) throw new DerError('AlgorithmIdentifier without an OID');
  let hex = '';
  for (const byte of contentOf(der, oid)) hex += byte.toString(16).padStart(2, '0');
  return ALGORITHMS[hex] ?? 'unknown';
}

/** PKCS#1 RSAPrivateKey → PKCS#8 PrivateKeyInfo { 0, { rsaEncryption, NULL }, OCTET STRING pkcs1 }. */
function wrapPkcs1(pkcs1: Uint8Array): Uint8Array {
  const version = encodeElement(DER_TAG.integer, new Uint8Array([0]));
  const algorithm = encodeElement(DER_TAG.sequence, concat(encodeElement(DER_TAG.oid, RSA_ENCRYPTION_OID), encodeElement(DER_TAG.null, new Uint8Array(0))));
  return encodeElement(DER_TAG.sequence, concat(version, algorithm, encodeElement(DER_TAG.octetString, pkcs1)));
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}
