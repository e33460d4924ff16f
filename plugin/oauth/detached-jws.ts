/**
 * UK Open Banking `x-jws-signature` (OB Read/Write API Profile, "Message Signing"): a JWS over the exact body bytes
 * with the payload detached (`<protected>..<signature>`), PS256 (or ES256), `kid`, `typ: JOSE`,
 * `cty: application/json`, and the OB claims in the protected header, all listed in `crit`:
 * `http://openbanking.org.uk/iat` (seconds), `…/iss` (the TPP's `<orgId>/<softwareStatementId>`), `…/tan` (the
 * trust anchor). Banks before 3.1.4 want `b64: false` (the body unencoded in the signing input, `b64` in `crit`).
 * jose signs and verifies; this module chooses the header and checks the OB claims of the bank's signatures.
 */
import { base64url, createLocalJWKSet, decodeProtectedHeader, FlattenedSign, flattenedVerify, type JSONWebKeySet } from 'jose';
import { BankgateError } from '../errors/bankgate-error.js';
import type { JoseSigningKey } from './signing-key.js';

export const OB_IAT = 'http://openbanking.org.uk/iat';
export const OB_ISS = 'http://openbanking.org.uk/iss';
export const OB_TAN = 'http://openbanking.org.uk/tan';

export interface JwsSigner {
  readonly key: JoseSigningKey;
  /** `…/iss`: the TPP's `<orgId>/<softwareStatementId>` (or what the bank registered). */
  readonly issuer: string;
  /** `…/tan`: the trust anchor, `openbanking.org.uk` in the OB directory. */
  readonly trustAnchor: string;
  /** `false` for banks before OB 3.1.4: `b64: false`, the body unencoded in the signing input. Default true. */
  readonly b64?: boolean;
}

/**
 * The detached `x-jws-signature` of `body` (its exact bytes), at `now` (epoch ms).
 * @example const signature = await signDetachedJws(signer, new TextEncoder().encode(json), Date.now());
 */
export async function signDetachedJws(signer: JwsSigner, body: Uint8Array, now: number): Promise<string> {
  const unencoded = signer.b64 === false;
  const header = {
    alg: signer.key.algorithm,
    kid: signer.key.keyId,
    typ: 'JOSE',
    cty: 'application/json',
    [OB_IAT]: Math.floor(now / 1000),
    [OB_ISS]: signer.issuer,
    [OB_TAN]: signer.trustAnchor,
    crit: unencoded ? [OB_IAT, OB_ISS, OB_TAN, 'b64'] : [OB_IAT, OB_ISS, OB_TAN],
    ...(unencoded ? { b64: false } : {}),
  };
  const jws = await new FlattenedSign(body).setProtectedHeader(header).sign(signer.key.privateKey, { crit: { [OB_IAT]: true, [OB_ISS]: true, [OB_TAN]: true } });
  return `${jws.protected}..${jws.signature}`;
}

export interface JwsVerification {
  /** The bank's public keys (its JWKS). */
  readonly jwks: JSONWebKeySet;
  /** `…/iss` the bank signs as (its orgId). */
  readonly issuer: string;
  readonly trustAnchor: string;
  /** Accepted age of `…/iat`, seconds (default 300; 60 s ahead allowed for clock skew). */
  readonly maxAgeSeconds?: number;
}

/**
 * Verifies a bank's detached `x-jws-signature` over `body`: signature (PS256/ES256, `kid` in the JWKS), `crit`, and the
 * OB claims. Throws `bank_response_invalid` (502) naming what failed; never echoes the signature.
 */
export async function verifyDetachedJws(bank: string, signature: string | undefined, body: Uint8Array, expected: JwsVerification, now: number): Promise<Record<string, unknown>> {
  const fail = (why: string, cause?: unknown) => new BankgateError('bank_response_invalid', { status: 502, bank, detail: `bank ${bank}'s x-jws-signature ${why}`, cause });
  if (!signature) throw fail('is missing: the bank signs its answers (banks.' + bank + '.jws.verify)');
  const parts = signature.split('.');
  if (parts.length !== 3 || parts[1] !== '') throw fail('is not a detached compact JWS');
  let header: Record<string, unknown>;
  try {
    // The signing input carries the body base64url-encoded, unless the bank signed with `b64: false`.
    const unencoded = decodeProtectedHeader(signature).b64 === false;
    const verified = await flattenedVerify({ protected: parts[0]!, payload: unencoded ? body : base64url.encode(body), signature: parts[2]! }, createLocalJWKSet(expected.jwks), {
      algorithms: ['PS256', 'ES256'],
      crit: { [OB_IAT]: true, [OB_ISS]: true, [OB_TAN]: true },
    });
    header = verified.protectedHeader as Record<string, unknown>;
  } catch (error) {
    throw fail(`does not verify (${(error as Error).name})`, error);
  }
  const iat = header[OB_IAT];
  const age = typeof iat === 'number' ? Math.floor(now / 1000) - iat : Number.NaN;
  if (!(age <= (expected.maxAgeSeconds ?? 300) && age >= -60)) throw fail(`has an ${OB_IAT} out of range`);
  if (header[OB_ISS] !== expected.issuer) throw fail(`names another issuer than ${expected.issuer}`);
  if (header[OB_TAN] !== expected.trustAnchor) throw fail(`names another trust anchor than ${expected.trustAnchor}`);
  return header;
}
