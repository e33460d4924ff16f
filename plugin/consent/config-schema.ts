/**
 * `banks.<bank>.consent` and `banks.<bank>.payments`: which protocol obtains a PSU's consent at the bank and which
 * authorises its payments, with the bank's quirks as data (scope templates, renamed OAuth parameters, status words,
 * SCA method names). Checked once at start; every error names its path. A consent without `protocol` is `oauth`
 * (the plain authorization-code redirect), so configs written before protocols existed keep their meaning.
 */
import { z } from 'zod';
import { ukOpenBankingFields } from './ukob/config-schema.js';

/** The OAuth authorization request: every protocol that sends the PSU to an authorization endpoint reads these. */
const oauthFields = {
  /** Scopes asked for when a connection names none; default: every PSU scope of the bank's manifests. */
  scopes: z.array(z.string().min(1)).optional(),
  /** OpenID Connect: adds `openid`, sends a nonce and requires a valid id_token. */
  openid: z.boolean().default(false),
  /** Extra authorization request parameters, e.g. `{ acr_values: 'L1' }`. */
  extraParams: z.record(z.string(), z.string()).default({}),
  /**
   * Authorization request parameters the bank spells differently (`{ client_id: 'clientId', response_type:
   * 'responseType' }`): the standard name → the bank's.
   */
  parameterNames: z.partialRecord(z.enum(['client_id', 'redirect_uri', 'response_type', 'scope', 'state', 'code_challenge', 'code_challenge_method', 'nonce']), z.string().min(1)).default({}),
};

/** What every protocol shares. */
const commonFields = {
  /**
   * A re-consent completed by another PSU than the connection's (its id_token `sub`, or the `PSU-ID` given): `refuse`
   * (default: the new consent is ended at the bank and the connection keeps its PSU) or `flag` (accepted, and shown in
   * `GET /connections/{id}` as `psu.changedAt`).
   */
  subjectChange: z.enum(['refuse', 'flag']).default('refuse'),
  /** How long the PSU has to finish a consent (redirect, decoupled, embedded), seconds. */
  windowSeconds: z.number().int().min(60).max(3600).default(900),
  /**
   * Unattended reads per day per endpoint and account for connections of this bank, when the consent itself says
   * none (a Berlin Group consent's granted `frequencyPerDay` wins). Absent: no budget for such connections.
   */
  frequencyPerDay: z.number().int().min(1).max(100).optional(),
};

const oauthConsentSchema = z.strictObject({
  protocol: z.literal('oauth'),
  ...oauthFields,
  ...commonFields,
});

const berlinGroupConsentSchema = z.strictObject({
  protocol: z.literal('berlin-group'),
  ...oauthFields,
  ...commonFields,
  /** The API that serves `POST /v1/consents`; default: the bank's API that declares `createConsent`. */
  api: z.string().min(1).optional(),
  /**
   * The OAuth scope of a consent's OAuth SCA (`scaOAuth`), `{consentId}` replaced: `AIS:{consentId}` (default, KBC and
   * this sandbox), `AIS: {consentId}` (banks that want the space).
   */
  scopeTemplate: z.string().regex(/\{consentId\}/, 'must contain {consentId}').default('AIS:{consentId}'),
  /** The scope of the OAuth pre-step (a PSU login before the consent exists), for banks that ask for one. */
  preStepScope: z.string().min(1).default('AIS'),
  /** Send `TPP-Explicit-Authorisation-Preferred: true` (the gateway then starts the authorisation itself). */
  explicitAuthorisation: z.boolean().default(false),
  /** The bank's status words → the standard's (`{ finalized: 'finalised' }`), for `scaStatus` and `consentStatus`. */
  statusNames: z.record(z.string(), z.string()).default({}),
  /** The least time between two status reads of a running decoupled SCA (the bank refuses faster polling), ms. */
  pollIntervalMs: z.number().int().min(0).max(60_000).default(1000),
  /** How often `GET /connections/{id}` reads an active consent's status at the bank, seconds (0: every time). */
  statusCheckSeconds: z.number().int().min(0).max(86_400).default(60),
});

/** UK Open Banking 4.0: an intent first, then the PSU's authorisation bound to it (plugin/consent/ukob/). */
const ukOpenBankingConsentSchema = z.strictObject({
  protocol: z.literal('uk-open-banking'),
  ...oauthFields,
  ...commonFields,
  ...ukOpenBankingFields,
  /** How often `GET /connections/{id}` reads an active intent's status at the bank, seconds (0: every time). */
  statusCheckSeconds: z.number().int().min(0).max(86_400).default(60),
});

const consentUnion = z.discriminatedUnion('protocol', [oauthConsentSchema, berlinGroupConsentSchema, ukOpenBankingConsentSchema], {
  error: (issue) => (issue.code === 'invalid_union' ? 'protocol must be oauth, berlin-group or uk-open-banking' : undefined),
});

/** What a config may write: `protocol` may be left out for `oauth`. */
export type ConsentConfigInput =
  | (Omit<z.input<typeof oauthConsentSchema>, 'protocol'> & { readonly protocol?: 'oauth' })
  | z.input<typeof berlinGroupConsentSchema>
  | z.input<typeof ukOpenBankingConsentSchema>;

/** `banks.<bank>.consent` (absent: `{ protocol: 'oauth' }` with its defaults). */
export const consentSchema = z.preprocess(
  (value) => (value !== null && typeof value === 'object' && !Array.isArray(value) && !('protocol' in value) ? { ...value, protocol: 'oauth' } : value),
  consentUnion,
) as unknown as z.ZodType<z.output<typeof consentUnion>, ConsentConfigInput>;

const berlinGroupPaymentsSchema = z.strictObject({
  protocol: z.literal('berlin-group'),
  /** The initiation operations, by API: `{ xs2a: ['initiatePayment'] }`; default every API's `initiatePayment`. */
  operations: z.array(z.string().min(1)).default(['initiatePayment']),
  /**
   * The SCA method to start for each approach the caller prefers, where the bank lets the TPP choose
   * (`startAuthorisationWithAuthenticationMethodSelection`; SEB: `{ decoupled: 'mobiltbankid', redirect: 'digipass' }`).
   */
  scaMethods: z.strictObject({ redirect: z.string().min(1).optional(), decoupled: z.string().min(1).optional(), embedded: z.string().min(1).optional() }).default({}),
  /** The bank's status words → the standard's (`{ finalized: 'finalised' }`). */
  statusNames: z.record(z.string(), z.string()).default({}),
  /** The OAuth scope of a payment's OAuth SCA, `{paymentId}` replaced. */
  scopeTemplate: z.string().regex(/\{paymentId\}/, 'must contain {paymentId}').default('PIS:{paymentId}'),
  /** The least time between two status reads of a running decoupled SCA, ms. */
  pollIntervalMs: z.number().int().min(0).max(60_000).default(1000),
  /** The SCA steps and status reads carry the PSU's token of the connection the payment was made for (SEB). */
  connectionToken: z.boolean().default(false),
});

const stetPaymentsSchema = z.strictObject({
  protocol: z.literal('stet'),
  /** The initiation operation (`POST /payment-requests`). */
  operations: z.array(z.string().min(1)).default(['paymentRequestsPost']),
  /** The operation that reads a payment request (`GET /payment-requests/{paymentRequestResourceId}`). */
  statusOperation: z.string().min(1).default('paymentRequestGet'),
  /** How often the payment's status is read at the bank while it is not final, ms. */
  pollIntervalMs: z.number().int().min(0).max(60_000).default(1000),
});

/** `banks.<bank>.payments`: how payments initiated through the gateway are authorised and followed. */
export const paymentsSchema = z.discriminatedUnion('protocol', [berlinGroupPaymentsSchema, stetPaymentsSchema], {
  error: (issue) => (issue.code === 'invalid_union' ? 'protocol must be berlin-group or stet' : undefined),
});

/** `banks.<bank>.unattended`: the unattended-access budget's options. */
export const unattendedSchema = z
  .strictObject({
    /**
     * When a read's budget is spent, answer the last answer to the same read from this replica's cache (with `Age` and
     * `x-bankgate-cache: hit`) instead of 429. Off by default: the data may be up to a day old.
     */
    serveCachedWhenSpent: z.boolean().default(false),
    /** How many answers the cache keeps per replica (least recently used go first). */
    cacheEntries: z.number().int().min(1).max(100_000).default(1000),
  })
  .default({ serveCachedWhenSpent: false, cacheEntries: 1000 });

export type ConsentConfig = z.output<typeof consentSchema>;
export type BerlinGroupConsentConfig = Extract<ConsentConfig, { protocol: 'berlin-group' }>;
export type UkOpenBankingConsentConfig = Extract<ConsentConfig, { protocol: 'uk-open-banking' }>;
export type PaymentsConfig = z.output<typeof paymentsSchema>;
export type BerlinGroupPaymentsConfig = Extract<PaymentsConfig, { protocol: 'berlin-group' }>;
export type StetPaymentsConfig = Extract<PaymentsConfig, { protocol: 'stet' }>;
export type UnattendedConfig = z.output<typeof unattendedSchema>;
