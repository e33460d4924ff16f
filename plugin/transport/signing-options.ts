/**
 * The signing key of a bank (the QSeal), checked once and imported into WebCrypto: what every transport's
 * request signer uses, on every runtime. Checks are synchronous (PEM and DER read here: an EC key, a key that
 * is not the certificate's, a bad keyId are refused when a factory runs); the WebCrypto import runs
 * alongside and is awaited by the first signature, or at start by `resolveSigningOptions`.
 */
import { toBase64 } from '../crypto/base64.js';
import { readCertificatePem } from '../crypto/certificate.js';
import { DerError } from '../crypto/der.js';
import { isEncryptedPem, PrivateKeyError, readPrivateKeyPem } from '../crypto/private-key.js';
import { rsaPublicOfPkcs8, rsaPublicOfSpki, sameRsaPublicKey } from '../crypto/rsa.js';
import { BankgateError } from '../errors/bankgate-error.js';

export interface SigningOptions {
  /** The `keyId` the bank knows the signing key by (often the URL or serial of the QSeal certificate). */
  readonly keyId: string;
  /** PEM of the RSA private key (the QSeal key), PKCS#8 or PKCS#1: signatures are `rsa-sha256`. */
  readonly key: string;
  /** Passphrase of an encrypted `key`: only runtimes that can decrypt keys (`bankgate/node`) read those. */
  readonly passphrase?: string;
  /** PEM of the QSeal certificate: sent as `TPP-Signature-Certificate` (base64 DER) when given. */
  readonly certificate?: string;
  /**
   * Headers to sign, in order. Default `['(request-target)', 'digest', 'x-request-id', 'date']`; a `date`
   * to sign that the request lacks is added (RFC 9110 IMF-fixdate, now).
   */
  readonly headers?: readonly string[];
}

export interface ResolvedSigning {
  readonly keyId: string;
  /** The QSeal key in WebCrypto (RSASSA-PKCS1-v1_5, SHA-256); settles when its import does. */
  readonly key: Promise<CryptoKey>;
  /** Names in signing order. */
  readonly headers: readonly string[];
  /** base64 DER of the QSeal certificate, the `TPP-Signature-Certificate` value. */
  readonly certificateHeader?: string;
}

/** Turns an encrypted PEM private key into unencrypted PKCS#8 PEM (WebCrypto cannot); throws on a wrong passphrase. */
export type DecryptPrivateKey = (pem: string, passphrase: string | undefined) => string;

export interface KeyReading {
  /** The runtime's decryption of encrypted keys, when it has one (`bankgate/node`). */
  readonly decryptPrivateKey?: DecryptPrivateKey;
  /** Named in the error for an encrypted key on a runtime without decryption. */
  readonly runtime?: string;
}

export const DEFAULT_SIGNED_HEADERS = ['(request-target)', 'digest', 'x-request-id', 'date'] as const;
export const RSA_SHA256 = { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' } as const;

function invalid(path: string, problem: string, cause?: unknown): BankgateError {
  return new BankgateError('config_invalid', { status: 500, detail: `${path}: ${problem}`, cause });
}

/**
 * Checks signing options and starts importing the key. Throws `BankgateError('config_invalid')` whose
 * detail starts with the config path (`banks.sg.signing.key: must be an RSA key …`); never echoes a key.
 */
export function prepareSigning(signing: SigningOptions, path: string, reading: KeyReading = {}): ResolvedSigning {
  if (signing === null || typeof signing !== 'object') throw invalid(path, 'must be { keyId, key }');
  const { keyId } = signing;
  // keyId goes between double quotes in the Signature header: a quote or backslash would break the syntax.
  if (typeof keyId !== 'string' || keyId === '' || /["\\\r\n]/.test(keyId)) {
    throw invalid(`${path}.keyId`, 'must be a non-empty string without quotes, backslashes or line breaks');
  }
  const headers = signingHeaders(signing.headers, `${path}.headers`) ?? DEFAULT_SIGNED_HEADERS;
  const pkcs8 = rsaPrivateKey(signing.key, signing.passphrase, `${path}.key`, reading);
  let certificateHeader: string | undefined;
  if (signing.certificate !== undefined) {
    const certificate = typeof signing.certificate === 'string' ? readCertificatePem(signing.certificate) : undefined;
    if (!certificate) throw invalid(`${path}.certificate`, 'is not a valid PEM certificate');
    if (certificate.keyAlgorithm !== 'rsa' || !sameRsaPublicKey(rsaPublicOfSpki(certificate.spki), rsaPublicOfPkcs8(pkcs8))) {
      throw invalid(`${path}.key`, `does not belong to the certificate in ${path}.certificate`);
    }
    certificateHeader = toBase64(certificate.der);
  }
  const key = crypto.subtle.importKey('pkcs8', pkcs8 as Uint8Array<ArrayBuffer>, RSA_SHA256, false, ['sign']).catch((error: unknown) => {
    throw invalid(`${path}.key`, 'is not a readable private key (WebCrypto refused it); check the file and the passphrase', error);
  });
  key.catch(() => {}); // awaited by whoever signs first; never an unhandled rejection meanwhile
  return { keyId, key, headers, ...(certificateHeader !== undefined ? { certificateHeader } : {}) };
}

/** `prepareSigning`, with the key's import awaited: every problem is thrown now, at start. */
export async function resolveSigningOptions(signing: SigningOptions, path: string, reading: KeyReading = {}): Promise<ResolvedSigning> {
  const prepared = prepareSigning(signing, path, reading);
  await prepared.key;
  return prepared;
}

/** The PKCS#8 DER of an RSA private key given as PEM, decrypted by the runtime when it is encrypted. */
function rsaPrivateKey(value: unknown, passphrase: string | undefined, path: string, reading: KeyReading): Uint8Array {
  if (typeof value !== 'string' || !value.includes('-----BEGIN ')) {
    throw invalid(path, `must be the PEM text of a private key (read the file first), got ${typeof value}`);
  }
  let pem = value;
  if (isEncryptedPem(pem)) {
    if (!reading.decryptPrivateKey) {
      throw invalid(
        path,
        `is an encrypted private key, which the ${reading.runtime ?? 'current'} runtime cannot decrypt (WebCrypto imports only unencrypted keys): ` +
          'decrypt it once with `openssl pkcs8 -topk8 -nocrypt -in KEY.pem -out KEY.pkcs8.pem` and keep that file as secret as the key, or run on Node (bankgate/node)',
      );
    }
    try {
      pem = reading.decryptPrivateKey(pem, passphrase);
    } catch (error) {
      const code = (error as { code?: string }).code;
      throw invalid(path, `is not a readable private key${code ? ` (${code})` : ''}; check the file and the passphrase`, error);
    }
  }
  let key;
  try {
    key = readPrivateKeyPem(pem);
  } catch (error) {
    if (error instanceof PrivateKeyError || error instanceof DerError) throw invalid(path, 'is not a readable private key; check the file and the passphrase', error);
    throw error;
  }
  if (key.algorithm !== 'rsa') throw invalid(path, `must be an RSA key for rsa-sha256 signatures, got ${key.algorithm}`);
  try {
    rsaPublicOfPkcs8(key.pkcs8);
  } catch (error) {
    throw invalid(path, 'is not a readable private key; check the file and the passphrase', error);
  }
  return key.pkcs8;
}

function signingHeaders(value: unknown, path: string): string[] | undefined {
  if (value === undefined) return undefined;
  if (!Array.isArray(value) || value.length === 0 || value.some((h) => typeof h !== 'string' || h.trim() === '')) {
    throw invalid(path, 'must be a non-empty list of header names, such as ["(request-target)", "digest", "x-request-id"]');
  }
  const names = value.map((h: string) => h.trim().toLowerCase());
  if (names.includes('signature')) throw invalid(path, 'cannot sign the signature header itself');
  return names;
}

/** Signing as a transport factory takes it: PEM options (checked now) or signing already resolved from the config. */
export function signingOf(signing: SigningOptions | ResolvedSigning, path: string, reading: KeyReading = {}): ResolvedSigning {
  return isResolvedSigning(signing) ? signing : prepareSigning(signing, path, reading);
}

function isResolvedSigning(signing: SigningOptions | ResolvedSigning): signing is ResolvedSigning {
  return typeof signing === 'object' && signing !== null && typeof (signing.key as { then?: unknown } | undefined)?.then === 'function';
}
