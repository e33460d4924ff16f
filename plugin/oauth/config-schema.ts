/**
 * The FAPI part of `hono.config.ts`, per bank: the `private_key_jwt` client authentication method
 * (`banks.<bank>.client.auth`), how authorization requests are sent (`banks.<bank>.authorizationRequest`: plain, PAR,
 * signed request objects, the FAPI 2.0 and FAPI 1 Advanced profiles), and how access tokens are sender-constrained
 * (`banks.<bank>.senderConstraint`: the mTLS certificate or DPoP). Checked once at start (resolve-oauth.ts).
 */
import { z } from 'zod';
import { secretRefSchema } from '../config/secret-ref.js';

const algorithm = z.enum(['PS256', 'ES256'], { error: 'must be PS256 (an RSA key) or ES256 (an EC P-256 key); FAPI allows no other' });

/** A JOSE signing key by reference: `{ keyId, key: { file } | { env }, keyPassphrase?, algorithm? }`. */
const signingKeyFields = {
  /** The `kid` the bank knows the key by (its registered JWKS, or the Open Banking directory's). */
  keyId: z.string().min(1),
  /** PEM private key (PKCS#8, or PKCS#1 for RSA). */
  key: secretRefSchema,
  /** Passphrase of an encrypted `key` (runtimes that decrypt keys only: bankgate/node). */
  keyPassphrase: secretRefSchema.optional(),
  /** Default: from the key (RSA → PS256, EC P-256 → ES256). */
  algorithm: algorithm.optional(),
};

export const signingKeySchema = z.strictObject(signingKeyFields);
export type SigningKeyConfig = z.output<typeof signingKeySchema>;

/** `client.auth: { method: 'private_key_jwt', keyId, key, … }`: RFC 7523 client assertions with the key. */
export const privateKeyJwtSchema = z.strictObject({ method: z.literal('private_key_jwt'), ...signingKeyFields });

/**
 * `authorizationRequest`, by `profile`:
 * - `oauth2` (default): query parameters; `par` (RFC 9126) and `requestObject` (RFC 9101, signed) optional;
 * - `fapi2`: the FAPI 2.0 Security Profile: PAR always, `response_type=code`, PKCE S256, `iss` required in the
 *   response, sender-constrained tokens; `requestObject` optional (a signed request object inside the PAR);
 * - `fapi1-advanced`: FAPI 1.0 Advanced: a signed request object always (by value, or inside a PAR with `par`),
 *   `response_type=code id_token`, nonce, and the id_token checked as a detached signature (`c_hash`, `s_hash`).
 * Request objects are signed with `signingKey`, else with the `private_key_jwt` key of `client.auth`.
 */
export const authorizationRequestSchema = z
  .discriminatedUnion('profile', [
    z.strictObject({ profile: z.literal('oauth2'), par: z.boolean().default(false), requestObject: z.boolean().default(false), signingKey: signingKeySchema.optional() }),
    z.strictObject({ profile: z.literal('fapi2'), requestObject: z.boolean().default(false), signingKey: signingKeySchema.optional(), idTokenAlgorithm: algorithm.default('PS256') }),
    z.strictObject({ profile: z.literal('fapi1-advanced'), par: z.boolean().default(false), signingKey: signingKeySchema.optional(), idTokenAlgorithm: algorithm.default('PS256') }),
  ])
  .default({ profile: 'oauth2', par: false, requestObject: false });
export type AuthorizationRequestConfig = z.output<typeof authorizationRequestSchema>;

/**
 * `senderConstraint`: `{ method: 'mtls' }` (default; tokens bound to the client certificate, RFC 8705, nothing to
 * do beyond presenting it), or `{ method: 'dpop', key, algorithm? }` (RFC 9449: a proof with every token request
 * and bank call). The DPoP key is configured, not generated, so that every replica and every restart proves
 * possession of the key the tokens are bound to.
 */
export const senderConstraintSchema = z
  .discriminatedUnion('method', [
    z.strictObject({ method: z.literal('mtls') }),
    z.strictObject({ method: z.literal('dpop'), key: secretRefSchema, keyPassphrase: secretRefSchema.optional(), algorithm: algorithm.optional() }),
  ])
  .default({ method: 'mtls' });
export type SenderConstraintConfig = z.output<typeof senderConstraintSchema>;

/**
 * `jws`: UK Open Banking message signing (`x-jws-signature`, plugin/oauth/detached-jws.ts). The gateway signs the
 * body of every operation whose spec declares the `x-jws-signature` header with the key (PS256/ES256, `keyId` as
 * `kid`), claiming `issuer` and `trustAnchor`; `b64: false` for banks before OB 3.1.4. With `verify`, the bank's
 * signed answers (the APIs listed) are checked against its published keys; an answer that fails is never passed on.
 */
export const jwsSchema = z.strictObject({
  ...signingKeyFields,
  /** `http://openbanking.org.uk/iss`: the TPP's `<orgId>/<softwareStatementId>`. */
  issuer: z.string().min(1),
  /** `http://openbanking.org.uk/tan`. */
  trustAnchor: z.string().min(1).default('openbanking.org.uk'),
  /** `false`: sign as before OB 3.1.4 (`b64: false` in the header and in `crit`). */
  b64: z.boolean().default(true),
  verify: z
    .strictObject({
      /** The bank's signing keys (JWKS), fetched over the bank's transport and kept for the process. */
      jwksUrl: z.url({ protocol: /^https$/, error: 'must be an https URL' }),
      /** `…/iss` the bank signs as (its orgId). */
      issuer: z.string().min(1),
      trustAnchor: z.string().min(1).default('openbanking.org.uk'),
      /** The APIs whose answers the bank signs (e.g. `['pisp']`). */
      apis: z.array(z.string().min(1)).min(1),
    })
    .optional(),
});
export type JwsConfig = z.output<typeof jwsSchema>;
