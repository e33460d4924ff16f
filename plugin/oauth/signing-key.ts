/**
 * A JOSE signing key (PS256 or ES256) read from PEM and imported into WebCrypto: what signs `private_key_jwt`
 * client assertions (RFC 7523), request objects (RFC 9101), DPoP proofs (RFC 9449) and UK Open Banking
 * `x-jws-signature`s. FAPI allows PS256 and ES256 only, so those are the two algorithms here.
 */
import { isEncryptedPem, PrivateKeyError, readPrivateKeyPem } from '../crypto/private-key.js';
import { DerError } from '../crypto/der.js';
import { BankgateError } from '../errors/bankgate-error.js';
import type { KeyReading } from '../transport/signing-options.js';

export type JoseAlgorithm = 'PS256' | 'ES256';
export const JOSE_ALGORITHMS: readonly JoseAlgorithm[] = ['PS256', 'ES256'];

/** WebCrypto parameters of each algorithm, for import and for `crypto.subtle.sign`. */
export const WEBCRYPTO: Record<JoseAlgorithm, { import: RsaHashedImportParams | EcKeyImportParams; sign: RsaPssParams | EcdsaParams }> = {
  PS256: { import: { name: 'RSA-PSS', hash: 'SHA-256' }, sign: { name: 'RSA-PSS', saltLength: 32 } },
  ES256: { import: { name: 'ECDSA', namedCurve: 'P-256' }, sign: { name: 'ECDSA', hash: 'SHA-256' } },
};

export interface JoseSigningKey {
  /** The `kid` the bank knows the key by (the registered JWKS's, or the OB directory's). */
  readonly keyId: string;
  readonly algorithm: JoseAlgorithm;
  /** The private key, not extractable. */
  readonly privateKey: CryptoKey;
  /** The public half (extractable): a DPoP proof carries it as `jwk`. */
  readonly publicKey: CryptoKey;
}

function invalid(path: string, problem: string, cause?: unknown): BankgateError {
  return new BankgateError('config_invalid', { status: 500, detail: `${path}: ${problem}`, cause });
}

/**
 * Reads a PEM private key (PKCS#8, or PKCS#1 for RSA; an encrypted one through the runtime's decryption) and
 * imports it for `algorithm`, inferred from the key when absent (RSA → PS256, EC → ES256). Throws
 * `config_invalid` whose detail starts with `path` (`banks.ukob.client.auth.key: …`); never echoes the key.
 * @example const key = await importSigningKey(pem, { keyId: 'kid-1', path: 'banks.ukob.client.auth' });
 */
export async function importSigningKey(
  pem: string,
  options: { keyId: string; algorithm?: JoseAlgorithm; passphrase?: string; path: string; reading?: KeyReading },
): Promise<JoseSigningKey> {
  const { path, reading = {} } = options;
  if (options.keyId === '' || /[\r\n]/.test(options.keyId)) throw invalid(`${path}.keyId`, 'must be the non-empty kid the bank knows the key by');
  let text = pem;
  if (isEncryptedPem(text)) {
    if (!reading.decryptPrivateKey) {
      throw invalid(
        `${path}.key`,
        `is an encrypted private key, which the ${reading.runtime ?? 'current'} runtime cannot decrypt: decrypt it once with ` +
          '`openssl pkcs8 -topk8 -nocrypt -in KEY.pem -out KEY.pkcs8.pem`, or run on Node (bankgate/node)',
      );
    }
    try {
      text = reading.decryptPrivateKey(text, options.passphrase);
    } catch (error) {
      throw invalid(`${path}.key`, 'is not a readable private key; check the file and the passphrase', error);
    }
  }
  let der;
  try {
    der = readPrivateKeyPem(text);
  } catch (error) {
    if (error instanceof PrivateKeyError || error instanceof DerError) throw invalid(`${path}.key`, `is not a readable PEM private key (${(error as Error).message})`, error);
    throw error;
  }
  const inferred: JoseAlgorithm | undefined = der.algorithm === 'rsa' ? 'PS256' : der.algorithm === 'ec' ? 'ES256' : undefined;
  if (!inferred) throw invalid(`${path}.key`, `must be an RSA key (PS256) or an EC P-256 key (ES256), got ${der.algorithm}`);
  const algorithm = options.algorithm ?? inferred;
  if (algorithm !== inferred) throw invalid(`${path}.algorithm`, `${algorithm} needs ${algorithm === 'PS256' ? 'an RSA' : 'an EC P-256'} key; the key is ${der.algorithm === 'rsa' ? 'RSA (use PS256)' : 'EC (use ES256)'}`);
  const params = WEBCRYPTO[algorithm].import;
  let jwk: JsonWebKey;
  try {
    // Imported extractable once, to derive the public half (WebCrypto cannot derive it from a private key).
    const extractable = await crypto.subtle.importKey('pkcs8', der.pkcs8 as Uint8Array<ArrayBuffer>, params, true, ['sign']);
    jwk = await crypto.subtle.exportKey('jwk', extractable);
  } catch (error) {
    throw invalid(`${path}.key`, `is not a usable ${algorithm} key (WebCrypto refused it${algorithm === 'ES256' ? '; ES256 needs the P-256 curve' : ''})`, error);
  }
  const privateKey = await crypto.subtle.importKey('jwk', jwk, params, false, ['sign']);
  const { d: _d, p: _p, q: _q, dp: _dp, dq: _dq, qi: _qi, ...publicJwk } = jwk;
  const publicKey = await crypto.subtle.importKey('jwk', { ...publicJwk, key_ops: ['verify'] }, params, true, ['verify']);
  return { keyId: options.keyId, algorithm, privateKey, publicKey };
}

/** Signs `input` with the key, as JWS wants it (ECDSA: the raw r‖s form WebCrypto gives). */
export async function signWith(key: JoseSigningKey, input: Uint8Array): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.sign(WEBCRYPTO[key.algorithm].sign, key.privateKey, input as Uint8Array<ArrayBuffer>));
}
