/**
 * The public half of an RSA key (modulus and exponent, RFC 8017 A.1), read from DER: a private key and a
 * certificate belong together exactly when these are equal. Synchronous, so a factory can refuse a
 * mismatched pair when it runs rather than on the first signature.
 */
import { childrenOf, contentOf, DER_TAG, DerError, readElement } from './der.js';

export interface RsaPublicNumbers {
  readonly modulus: Uint8Array;
  readonly exponent: Uint8Array;
}

/** From a PKCS#8 PrivateKeyInfo holding an RSAPrivateKey { version, n, e, … }. */
export function rsaPublicOfPkcs8(pkcs8: Uint8Array): RsaPublicNumbers {
  const info = childrenOf(pkcs8, readElement(pkcs8));
  const octets = info[2];
  if (octets?.tag !== DER_TAG.octetString) throw new DerError('no private key octets');
  const key = contentOf(pkcs8, octets);
  const [, modulus, exponent] = childrenOf(key, readElement(key));
  return numbers(key, modulus, exponent);
}

/** From a SubjectPublicKeyInfo holding an RSAPublicKey { n, e } in its BIT STRING. */
export function rsaPublicOfSpki(spki: Uint8Array): RsaPublicNumbers {
  const bits = childrenOf(spki, readElement(spki))[1];
  if (bits?.tag !== DER_TAG.bitString) throw new DerError('no public key bits');
  const key = contentOf(spki, bits).subarray(1); // the first content byte counts unused bits: 0 here
  const [modulus, exponent] = childrenOf(key, readElement(key));
  return numbers(key, modulus, exponent);
}

function numbers(der: Uint8Array, modulus: ReturnType<typeof readElement> | undefined, exponent: ReturnType<typeof readElement> | undefined): RsaPublicNumbers {
  if (modulus?.tag !== DER_TAG.integer || exponent?.tag !== DER_TAG.integer) throw new DerError('not an RSA key');
  return { modulus: contentOf(der, modulus), exponent: contentOf(der, exponent) };
}

/** DER INTEGERs are canonical: equal numbers have equal bytes. */
export function sameRsaPublicKey(a: RsaPublicNumbers, b: RsaPublicNumbers): boolean {
  return equalBytes(a.modulus, b.modulus) && equalBytes(a.exponent, b.exponent);
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
