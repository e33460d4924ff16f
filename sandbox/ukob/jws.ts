/**
 * `x-jws-signature`, as the Open Banking Read/Write profile defines it: a detached JWS (`<protected>..<signature>`)
 * of the HTTP body, PS256, `kid` naming a key of the signer, and three critical claims in the protected header:
 * `http://openbanking.org.uk/iat` (when it was signed), `…/iss` (the TPP: `<orgId>/<softwareId>`; the bank: its
 * orgId) and `…/tan` (the trust anchor). Signers from before 3.1.4 also send `b64: false` (the body unencoded in the
 * signing input), listed in `crit`: accepted.
 * Verification answers the 4.0 error code of the first check that fails, in the profile's order.
 */
import { base64url, createLocalJWKSet, flattenedVerify, FlattenedSign, type CryptoKey, type JSONWebKeySet, type JWK } from 'jose';
import { OB_ERROR, type ObErrorCode } from './errors.js';

export const OB_IAT = 'http://openbanking.org.uk/iat';
export const OB_ISS = 'http://openbanking.org.uk/iss';
export const OB_TAN = 'http://openbanking.org.uk/tan';
const OB_CRIT = [OB_IAT, OB_ISS, OB_TAN] as const;

/** How old a signature may be, and how far in the future (clock skew), when it arrives. */
export const JWS_MAX_AGE_SECONDS = 300;
export const JWS_MAX_FUTURE_SECONDS = 60;

export type JwsVerdict = { readonly ok: true; readonly keyId: string } | { readonly ok: false; readonly code: ObErrorCode; readonly message: string; readonly path: string };

export interface JwsExpectation {
  /** The signer's registered keys (the client's `jwks`). */
  readonly jwks: { readonly keys: readonly JWK[] };
  /** The `…/iss` the signer must claim. */
  readonly issuer: string;
  readonly trustAnchor: string;
  /** Epoch seconds; default now. */
  readonly now?: number;
}

function refuse(code: ObErrorCode, message: string, path = 'x-jws-signature'): JwsVerdict {
  return { ok: false, code, message: `x-jws-signature: ${message}`, path };
}

/** Verifies a detached `x-jws-signature` over `body` (the bytes as received). */
export async function verifyDetachedJws(value: string | null, body: Uint8Array, expected: JwsExpectation): Promise<JwsVerdict> {
  if (value === null || value.trim() === '') return refuse(OB_ERROR.signatureMissing, 'the header is required on this request');
  const parts = value.trim().split('.');
  if (parts.length !== 3 || parts[1] !== '' || !parts[0] || !parts[2]) {
    return refuse(OB_ERROR.signatureMalformed, 'not a detached compact JWS (<protected header>..<signature>, the payload left out)');
  }
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(new TextDecoder().decode(base64url.decode(parts[0]))) as Record<string, unknown>;
    if (typeof header !== 'object' || header === null || Array.isArray(header)) throw new Error('not an object');
  } catch {
    return refuse(OB_ERROR.signatureMalformed, 'the protected header is not base64url-encoded JSON');
  }

  if (header.alg !== 'PS256') return refuse(OB_ERROR.signatureInvalidClaim, `alg ${JSON.stringify(header.alg)} is not PS256`, 'alg');
  if (typeof header.kid !== 'string' || header.kid === '') return refuse(OB_ERROR.signatureMissingClaim, 'kid is missing', 'kid');
  const crit = header.crit;
  if (!Array.isArray(crit)) return refuse(OB_ERROR.signatureMissingClaim, `crit is missing (it must list ${OB_CRIT.join(', ')})`, 'crit');
  const absent = OB_CRIT.filter((name) => !crit.includes(name));
  if (absent.length > 0) return refuse(OB_ERROR.signatureMissingClaim, `crit does not list ${absent.join(', ')}`, 'crit');
  const b64 = header.b64;
  if (b64 !== undefined && (b64 !== false || !crit.includes('b64'))) return refuse(OB_ERROR.signatureInvalidClaim, 'b64, when present, must be false and listed in crit', 'b64');
  const unknown = crit.filter((name) => !(OB_CRIT as readonly unknown[]).includes(name) && name !== 'b64');
  if (unknown.length > 0) return refuse(OB_ERROR.signatureInvalidClaim, `crit lists header parameters this bank does not process: ${unknown.join(', ')}`, 'crit');
  for (const name of OB_CRIT) {
    if (header[name] === undefined) return refuse(OB_ERROR.signatureMissingClaim, `${name} is listed in crit but absent`, name);
  }

  const now = expected.now ?? Math.floor(Date.now() / 1000);
  const iat = header[OB_IAT];
  if (typeof iat !== 'number' || !Number.isInteger(iat)) return refuse(OB_ERROR.signatureInvalidClaim, `${OB_IAT} must be a number of seconds since the epoch`, OB_IAT);
  if (iat > now + JWS_MAX_FUTURE_SECONDS) return refuse(OB_ERROR.signatureInvalidClaim, `${OB_IAT} is in the future`, OB_IAT);
  if (iat < now - JWS_MAX_AGE_SECONDS) return refuse(OB_ERROR.signatureInvalidClaim, `${OB_IAT} is more than ${JWS_MAX_AGE_SECONDS} s old`, OB_IAT);
  if (header[OB_ISS] !== expected.issuer) return refuse(OB_ERROR.signatureInvalidClaim, `${OB_ISS} is not the issuer registered for this client`, OB_ISS);
  if (header[OB_TAN] !== expected.trustAnchor) return refuse(OB_ERROR.signatureInvalidClaim, `${OB_TAN} must be ${expected.trustAnchor}`, OB_TAN);
  if (!expected.jwks.keys.some((key) => key.kid === header.kid && (key.use === undefined || key.use === 'sig'))) {
    return refuse(OB_ERROR.signatureInvalidClaim, `kid ${header.kid} is not a signing key registered for this client`, 'kid');
  }

  try {
    const keys = createLocalJWKSet(expected.jwks as JSONWebKeySet);
    await flattenedVerify(
      { protected: parts[0], payload: b64 === false ? body : base64url.encode(body), signature: parts[2] },
      keys,
      { algorithms: ['PS256'], crit: { [OB_IAT]: true, [OB_ISS]: true, [OB_TAN]: true } },
    );
  } catch {
    return refuse(OB_ERROR.signatureInvalid, 'the signature does not verify over the request body with the registered key');
  }
  return { ok: true, keyId: header.kid };
}

/** Signs `body` as the bank: the detached compact JWS for `x-jws-signature` on its responses. */
export async function signDetachedJws(body: Uint8Array, key: { readonly privateKey: CryptoKey; readonly keyId: string; readonly issuer: string; readonly trustAnchor: string }): Promise<string> {
  const jws = await new FlattenedSign(body)
    .setProtectedHeader({
      alg: 'PS256',
      kid: key.keyId,
      typ: 'JOSE',
      cty: 'application/json',
      [OB_IAT]: Math.floor(Date.now() / 1000),
      [OB_ISS]: key.issuer,
      [OB_TAN]: key.trustAnchor,
      crit: [...OB_CRIT],
    })
    .sign(key.privateKey, { crit: { [OB_IAT]: true, [OB_ISS]: true, [OB_TAN]: true } });
  return `${jws.protected}..${jws.signature}`;
}
