/**
 * Start-up resolution of a bank's FAPI settings (config-schema.ts): keys read and imported into WebCrypto, the
 * profile's rules applied and the combinations it forbids refused, each problem under its config path. Nothing here
 * throws: problems go to the collector, as with the rest of the config.
 */
import type { ProblemCollector } from '../config/secret-ref.js';
import { BankgateError } from '../errors/bankgate-error.js';
import type { KeyReading } from '../transport/signing-options.js';
import type { AuthorizationRequestConfig, JwsConfig, SenderConstraintConfig, SigningKeyConfig } from './config-schema.js';
import type { JwsSigner } from './detached-jws.js';
import { importSigningKey, type JoseAlgorithm, type JoseSigningKey } from './signing-key.js';

export type AuthorizationProfile = AuthorizationRequestConfig['profile'];

/** How the gateway sends authorization requests to a bank and checks what comes back. */
export interface ResolvedAuthorizationRequest {
  readonly profile: AuthorizationProfile;
  /** Pushed (RFC 9126): the PSU's URL carries only `client_id` and `request_uri`. */
  readonly par: boolean;
  /** The parameters travel in a signed request object (RFC 9101). */
  readonly requestObject: boolean;
  /** `code`, or `code id_token` (FAPI 1 Advanced: the id_token is a detached signature of the response). */
  readonly responseType: 'code' | 'code id_token';
  /** The authorization response must carry `iss` (RFC 9207), whatever the metadata says (FAPI 2.0). */
  readonly requireIss: boolean;
  /** Signs request objects (set whenever `requestObject` is). */
  readonly signingKey?: JoseSigningKey;
  /** The id_token's `alg` (FAPI profiles: PS256 unless configured). */
  readonly idTokenAlgorithm?: JoseAlgorithm;
}

export type ResolvedSenderConstraint = { readonly method: 'mtls' } | { readonly method: 'dpop'; readonly key: JoseSigningKey };

/** `banks.<bank>.jws`, its key imported. */
export interface ResolvedJws {
  readonly signer: JwsSigner;
  readonly verify?: { readonly jwksUrl: string; readonly issuer: string; readonly trustAnchor: string; readonly apis: readonly string[] };
}

export interface ResolvedOAuthSecurity {
  /** The `private_key_jwt` key, when `client.auth.method` is `private_key_jwt`. */
  readonly clientKey?: JoseSigningKey;
  readonly jws?: ResolvedJws;
  readonly authorizationRequest: ResolvedAuthorizationRequest;
  readonly senderConstraint: ResolvedSenderConstraint;
}

export interface OAuthSecurityInput {
  readonly clientAuth: { readonly method: string } & Partial<SigningKeyConfig>;
  readonly authorizationRequest: AuthorizationRequestConfig;
  readonly senderConstraint: SenderConstraintConfig;
  readonly jws?: JwsConfig;
}

const FAPI_CLIENT_AUTH = new Set(['private_key_jwt', 'tls_client_auth']);
const PROFILE_NAMES: Record<AuthorizationProfile, string> = { oauth2: 'OAuth 2.0', fapi2: 'FAPI 2.0', 'fapi1-advanced': 'FAPI 1.0 Advanced' };

/**
 * Reads the keys and applies the profile. `at` is the bank's config path (`banks.ukob`). Returns undefined
 * members where a problem was recorded.
 */
export async function resolveOAuthSecurity(input: OAuthSecurityInput, at: string, collector: ProblemCollector, reading: KeyReading): Promise<ResolvedOAuthSecurity> {
  const request = input.authorizationRequest;
  const { profile } = request;
  const fapi = profile !== 'oauth2';
  if (fapi && !FAPI_CLIENT_AUTH.has(input.clientAuth.method)) {
    collector.add(`${at}.client.auth.method: ${PROFILE_NAMES[profile]} allows private_key_jwt or tls_client_auth, not ${input.clientAuth.method}`);
  }
  const clientKey = input.clientAuth.method === 'private_key_jwt' ? await readKey(input.clientAuth as SigningKeyConfig, `${at}.client.auth`, collector, reading) : undefined;

  const par = profile === 'fapi2' ? true : request.par;
  const requestObject = profile === 'fapi1-advanced' ? true : request.requestObject;
  let signingKey: JoseSigningKey | undefined;
  if (requestObject) {
    if (request.signingKey) signingKey = await readKey(request.signingKey, `${at}.authorizationRequest.signingKey`, collector, reading);
    else if (input.clientAuth.method === 'private_key_jwt') signingKey = clientKey;
    else {
      collector.add(
        `${at}.authorizationRequest.signingKey: required: ${profile === 'fapi1-advanced' ? 'FAPI 1.0 Advanced signs every authorization request' : 'requestObject is on'} and client.auth is not private_key_jwt, whose key would sign it`,
      );
    }
  }

  let senderConstraint: ResolvedSenderConstraint = { method: 'mtls' };
  const constraint = input.senderConstraint;
  if (constraint.method === 'dpop') {
    if (profile === 'fapi1-advanced') {
      collector.add(`${at}.senderConstraint.method: FAPI 1.0 Advanced binds tokens to the client certificate (mtls); DPoP is a FAPI 2.0 (or plain OAuth) option`);
    }
    const key = await readKey({ keyId: 'dpop', key: constraint.key, keyPassphrase: constraint.keyPassphrase, algorithm: constraint.algorithm }, `${at}.senderConstraint`, collector, reading);
    if (key) senderConstraint = { method: 'dpop', key };
  }

  let jws: ResolvedJws | undefined;
  if (input.jws) {
    const key = await readKey(input.jws, `${at}.jws`, collector, reading);
    if (key) jws = { signer: { key, issuer: input.jws.issuer, trustAnchor: input.jws.trustAnchor, b64: input.jws.b64 }, ...(input.jws.verify ? { verify: input.jws.verify } : {}) };
  }

  return {
    ...(clientKey ? { clientKey } : {}),
    ...(jws ? { jws } : {}),
    authorizationRequest: {
      profile,
      par,
      requestObject,
      responseType: profile === 'fapi1-advanced' ? 'code id_token' : 'code',
      requireIss: profile === 'fapi2',
      ...(signingKey ? { signingKey } : {}),
      ...('idTokenAlgorithm' in request ? { idTokenAlgorithm: request.idTokenAlgorithm } : {}),
    },
    senderConstraint,
  };
}

async function readKey(config: SigningKeyConfig, path: string, collector: ProblemCollector, reading: KeyReading): Promise<JoseSigningKey | undefined> {
  const pem = collector.read(config.key, `${path}.key`);
  const passphrase = config.keyPassphrase ? collector.read(config.keyPassphrase, `${path}.keyPassphrase`) : undefined;
  if (pem === undefined) return undefined;
  try {
    return await importSigningKey(pem, { keyId: config.keyId, path, reading, ...(config.algorithm ? { algorithm: config.algorithm } : {}), ...(passphrase !== undefined ? { passphrase } : {}) });
  } catch (error) {
    if (error instanceof BankgateError && error.code === 'config_invalid') {
      collector.add(error.message);
      return undefined;
    }
    throw error;
  }
}
