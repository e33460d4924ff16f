import { z } from 'zod';
import { secretRefSchema } from '../config/secret-ref.js';

/**
 * What a caller may use: `*`, `<bank>/*`, `<bank>/<api>/*` or `<bank>/<api>/<operationId>`.
 * Consent endpoints need at least one permission at the bank.
 */
const permission = z.string().regex(/^(\*|[a-z][a-z0-9-]*\/(\*|[a-z][a-z0-9-]*\/(\*|[A-Za-z0-9_.-]+)))$/, 'must be *, <bank>/*, <bank>/<api>/* or <bank>/<api>/<operationId>');
const callerId = z.string().regex(/^[A-Za-z0-9._:@/-]{1,128}$/, 'caller ids are 1–128 of A–Z a–z 0–9 . _ : @ / -');

/** `callers`: who may call the gateway, and what each may use. */
export const callersSchema = z
  .strictObject({
    /** Static development key for the caller `dev` (all permissions); when absent and nothing else is configured, `BANKGATE_DEV_KEY`, else one is generated and printed. */
    devKey: secretRefSchema.optional(),
    /** Static keys for named callers (development, or services without a token issuer). */
    keys: z.record(callerId, z.strictObject({ key: secretRefSchema, allow: z.array(permission).min(1) })).default({}),
    /** JWTs from the internal token issuer, verified against its JWKS. */
    jwt: z
      .strictObject({
        issuer: z.string().min(1),
        audience: z.string().min(1),
        jwksUrl: z.url(),
        /** The claim naming the caller (default `sub`; `azp` or `client_id` for client-credentials tokens). */
        callerClaim: z.string().min(1).default('sub'),
        algorithms: z.array(z.string().min(1)).default(['RS256', 'PS256', 'ES256', 'EdDSA']),
        /** Permissions per caller id; callers not listed get `defaultAllow`. */
        allow: z.record(callerId, z.array(permission)).default({}),
        defaultAllow: z.array(permission).default([]),
        clockToleranceSeconds: z.number().int().min(0).max(300).default(30),
      })
      .optional(),
  })
  .default({ keys: {} });
