/**
 * The consent API of the surface (`POST /connections`, `GET` / `DELETE /connections/{connectionId}`, the bank's
 * callback), described once: the zod schemas here parse the requests (connection-routes.ts) and, turned into JSON
 * Schema, describe them in `/openapi.json` and the typed client. A field added here is documented by construction.
 */
import { z } from 'zod';

/** A connection id: what callers send as `X-Connection-Id` and in `/connections/{connectionId}`. */
export const CONNECTION_ID_PATTERN = /^[A-Za-z0-9._-]{1,128}$/;

export const connectionIdSchema = z
  .string()
  .regex(CONNECTION_ID_PATTERN, 'must be 1–128 characters of A–Z, a–z, 0–9, ".", "_" or "-"')
  .meta({ description: "A connection's id: 1–128 characters of A–Z, a–z, 0–9, `.`, `_`, `-`." });

const consentServiceSchema = z.enum(['accounts', 'balances', 'transactions']);

/** What a consent covers: `all`, or some services (of some accounts). */
export const consentAccessSchema = z
  .union([
    z.literal('all'),
    z.strictObject({
      services: z.array(consentServiceSchema).min(1).optional().meta({ description: 'Default: all three.' }),
      accounts: z.array(z.string().min(5).max(34)).optional().meta({ description: 'IBANs; absent: the PSU picks the accounts at the bank, where the bank offers that.' }),
    }),
  ])
  .meta({ id: 'ConsentAccess', description: 'What the consent covers (protocols with a consent resource, e.g. Berlin Group); `all` by default.' });

export const psuContextSchema = z
  .strictObject({
    ipAddress: z.string().min(2).max(64).optional().meta({ description: "The PSU's IP address: the PSU is present (Berlin Group requires it to create a consent)." }),
    userAgent: z.string().max(512).optional(),
    id: z.string().min(1).max(256).optional().meta({ description: "The PSU's login at the bank (Berlin Group `PSU-ID`), where the caller knows it; decoupled and embedded SCA need it." }),
    corporateId: z.string().min(1).max(256).optional(),
  })
  .meta({ id: 'PsuContext', description: 'The PSU, as the caller knows it. Sent to banks that want it; never logged.' });

export const createConnectionBody = z
  .strictObject({
    bank: z.string().min(1).meta({ description: 'The bank, as mounted (`/{bank}/…`).' }),
    connectionId: connectionIdSchema.optional().meta({ description: 'Your id for the connection; generated when absent.' }),
    scopes: z.array(z.string().min(1)).optional().meta({ description: "OAuth and UK Open Banking banks: scopes to ask the bank for; default: every PSU scope of the bank's mounted APIs. Refused (400) by a bank whose consent cannot carry it, as are `access`, `validUntil`, `recurring: false` and `frequencyPerDay`: a consent is never silently granted on other terms than asked." }),
    returnTo: z.string().optional().meta({ description: 'Where the PSU is sent after the consent (absolute http(s) URL), with `connectionId` and `status` added to its query.' }),
    access: consentAccessSchema.optional(),
    validUntil: z.iso.date().optional().meta({ description: 'Last day of the consent (`YYYY-MM-DD`); absent: as long as the bank grants. Berlin Group and UK Open Banking banks.' }),
    recurring: z.boolean().optional().meta({ description: 'Recurring access (default) or a one-off read (`false`: Berlin Group banks).' }),
    frequencyPerDay: z.number().int().min(1).max(100).optional().meta({ description: 'Unattended reads per day per endpoint and account; default 4 (recurring) or 1. The bank may grant less. Berlin Group banks.' }),
    psu: psuContextSchema.optional(),
    preferredApproach: z.enum(['redirect', 'decoupled', 'embedded']).optional().meta({ description: 'The SCA approach you prefer; the bank decides.' }),
    consentId: z
      .string()
      .regex(/^[A-Za-z0-9._:-]{1,128}$/, 'must be the bank\'s ConsentId (1–128 characters of A–Z, a–z, 0–9, ".", "_", ":" or "-")')
      .optional()
      .meta({ description: "UK Open Banking: an intent created through the gateway (`Data.ConsentId`, status AWAU) for the PSU to authorise, with its one scope (`payments`, `fundsconfirmations` or `accounts`); the connection then carries the PSU's token for it (a payment's submission, funds confirmations, account reads)." }),
  })
  .meta({ id: 'ConnectionCreate', description: 'Starts a PSU consent at a bank.' });

const scaMethodSchema = z.object({ authenticationMethodId: z.string(), authenticationType: z.string().optional(), name: z.string().optional(), explanation: z.string().optional() });

/** What the PSU must do next; the same for every bank. */
export const nextActionSchema = z
  .discriminatedUnion('type', [
    z.object({ type: z.literal('redirect'), url: z.string().meta({ description: "Send the PSU's browser here; the bank sends it back to the gateway, which sends it on to `returnTo`." }) }),
    z.object({
      type: z.literal('decoupled'),
      psuMessage: z.string().optional().meta({ description: 'Show it to the PSU (e.g. "open your banking app").' }),
      pollAfterMs: z.number().int().meta({ description: 'Poll `GET /connections/{connectionId}` no sooner than this.' }),
    }),
    z.object({
      type: z.literal('embedded'),
      step: z.enum(['psu_identification', 'psu_authentication', 'sca_method_selection', 'sca_authentication']).meta({
        description: 'What to ask the PSU and send to `POST /connections/{connectionId}/psu-data`: `psuId`, `password`, `authenticationMethodId` (one of `methods`), `scaAuthenticationData` (the OTP).',
      }),
      methods: z.array(scaMethodSchema).optional(),
      challenge: z
        .object({ otpMaxLength: z.number().optional(), otpFormat: z.enum(['characters', 'integer']).optional(), additionalInformation: z.string().optional(), image: z.string().optional(), imageLink: z.string().optional(), data: z.array(z.string()).optional() })
        .optional(),
      psuMessage: z.string().optional(),
    }),
  ])
  .meta({ id: 'NextAction', description: 'What the PSU must do next: `redirect`, `decoupled` (poll), `embedded` (send PSU data). Absent: nothing.' });

export const psuDataBody = z
  .strictObject({
    psuId: z.string().min(1).max(256).optional(),
    password: z.string().min(1).max(256).optional(),
    authenticationMethodId: z.string().min(1).max(256).optional(),
    scaAuthenticationData: z.string().min(1).max(256).optional(),
  })
  .meta({ id: 'PsuData', description: "The PSU's answer to an embedded SCA step (`nextAction.step`). Sent to the bank, never stored or logged." });

export const connectionStatusSchema = z.enum(['pending', 'active', 'reconsent_required', 'revoked', 'failed']);

export const connectionViewSchema = z
  .object({
    connectionId: z.string(),
    bank: z.string(),
    status: connectionStatusSchema,
    scopes: z.array(z.string()),
    accessTokenExpiresAt: z.string().nullable().meta({ description: "When the bank's current access token expires (ISO 8601); the gateway refreshes it before." }),
    createdAt: z.string(),
    updatedAt: z.string(),
    reason: z.object({ code: z.string(), detail: z.string() }).optional().meta({ description: 'Why the connection is not active (`consent_expired`, `consent_revoked_by_psu`, …).' }),
    nextAction: nextActionSchema.optional(),
    consent: z
      .object({
        protocol: z.string(),
        id: z.string().optional().meta({ description: "The bank's consent id (Berlin Group `consentId`, sent by the gateway as `Consent-ID`; UK Open Banking `ConsentId`)." }),
        status: z.string().optional().meta({ description: "The bank's own status word (Berlin Group `received`, `valid`, `expired`, `revokedByPsu`, …; UK Open Banking `AWAU`, `AUTH`, `RJCT`, `EXPD`, `CANC`)." }),
        validUntil: z.string().optional().meta({ description: 'What the bank granted (`YYYY-MM-DD`).' }),
        frequencyPerDay: z.number().optional().meta({ description: 'What the bank granted: unattended reads per day per endpoint and account.' }),
        recurring: z.boolean().optional(),
        approach: z.string().optional().meta({ description: 'How the PSU authorised: `redirect`, `oauth`, `oauth-pre-step`, `decoupled`, `embedded`.' }),
        checkedAt: z.string().optional().meta({ description: "When the gateway last read the consent's status at the bank." }),
        paymentId: z.string().optional().meta({ description: 'UK Open Banking: the payment the gateway submitted from this consent (`banks.<bank>.consent.submitPayments`).' }),
      })
      .optional()
      .meta({ description: 'The consent as the bank holds it.' }),
    unattended: z
      .object({
        frequencyPerDay: z.number().int(),
        reads: z.array(z.object({ endpoint: z.string(), account: z.string(), remaining: z.number().int(), resetAt: z.string().optional() })),
      })
      .optional()
      .meta({ description: 'The unattended-access budget: reads a day per endpoint and account without the PSU present (no `PSU-IP-Address`), and what is left of it for those read in the last 24 h.' }),
    psu: z.object({ changedAt: z.string().optional().meta({ description: 'A re-consent was completed by another PSU (accepted under `subjectChange: flag`).' }) }).optional(),
  })
  .meta({ id: 'Connection', description: 'A PSU consent at a bank and its state; never a token.' });

export const connectionCreatedSchema = connectionViewSchema
  .extend({ authorizeUrl: z.string().optional().meta({ description: "Same as `nextAction.url` when the next action is a redirect (kept for existing callers)." }) })
  .meta({ id: 'ConnectionCreated' });

export const connectionRevokedSchema = z
  .object({
    connectionId: z.string(),
    status: z.literal('revoked'),
    revocation: z.string().meta({ description: 'What the bank said: `revoked`, `not_supported` (the bank has no revocation endpoint), or a failure kept for the record.' }),
  })
  .meta({ id: 'ConnectionRevoked' });

export const paymentViewSchema = z
  .object({
    id: z.string().meta({ description: "The gateway's id of the payment (`bankgatePaymentId` in the initiation's answer)." }),
    bank: z.string(),
    paymentId: z.string().meta({ description: "The bank's id of the payment." }),
    authorisation: z.enum(['pending', 'authorised', 'failed']),
    transactionStatus: z.string().optional().meta({ description: 'The ISO 20022 status the bank last gave (RCVD, ACSP, ACSC, RJCT, …).' }),
    final: z.boolean().meta({ description: 'The status cannot change any more.' }),
    nextAction: nextActionSchema.optional(),
    reason: z.object({ code: z.string(), detail: z.string() }).optional(),
  })
  .meta({ id: 'Payment', description: 'A payment initiated through the gateway, followed by it to its final status.' });

export type ConnectionView = z.infer<typeof connectionViewSchema>;
export type PaymentView = z.infer<typeof paymentViewSchema>;

type Json = Record<string, unknown>;

const PROBLEMS = { '4XX': { $ref: '#/components/responses/Problem' }, '5XX': { $ref: '#/components/responses/Problem' } };

/**
 * The consent API as OpenAPI 3.1 paths and component schemas (JSON Schema 2020-12), for the surface document.
 * `prefix` is where the gateway is mounted (`''` or `/banks`).
 */
export function connectionApiDocument(prefix: string): { paths: Record<string, Json>; schemas: Json } {
  const schemas: Json = {};
  // A schema with a meta `id` comes out as `{ $ref: '#/$defs/<id>', $defs }`: its definitions become components.
  const ref = (schema: z.ZodType, io: 'input' | 'output'): Json => {
    const converted = z.toJSONSchema(schema, { target: 'draft-2020-12', io, unrepresentable: 'any' }) as Json;
    const { $schema: _schema, $defs, ...root } = JSON.parse(JSON.stringify(converted).replaceAll('"#/$defs/', '"#/components/schemas/')) as Json;
    Object.assign(schemas, $defs as Json | undefined);
    return root;
  };
  const idParameter = { name: 'connectionId', in: 'path', required: true, schema: { type: 'string', pattern: CONNECTION_ID_PATTERN.source } };
  const json = (schema: Json) => ({ 'application/json': { schema } });
  const paths: Record<string, Json> = {
    [`${prefix}/connections`]: {
      post: {
        operationId: 'createConnection',
        tags: ['connections'],
        summary: 'Start a PSU consent at a bank',
        requestBody: { required: true, content: json(ref(createConnectionBody, 'input')) },
        responses: {
          '201': { description: 'The pending connection and where to send the PSU.', headers: { Location: { schema: { type: 'string' } } }, content: json(ref(connectionCreatedSchema, 'output')) },
          ...PROBLEMS,
        },
      },
    },
    [`${prefix}/connections/{connectionId}`]: {
      get: {
        operationId: 'getConnection',
        tags: ['connections'],
        summary: "A connection's state",
        parameters: [idParameter],
        responses: { '200': { description: 'The connection.', content: json(ref(connectionViewSchema, 'output')) }, ...PROBLEMS },
      },
      delete: {
        operationId: 'deleteConnection',
        tags: ['connections'],
        summary: 'Revoke a connection at the bank and forget it',
        parameters: [idParameter],
        responses: { '200': { description: 'Revoked and forgotten.', content: json(ref(connectionRevokedSchema, 'output')) }, ...PROBLEMS },
      },
    },
    [`${prefix}/payments/{paymentId}`]: {
      get: {
        operationId: 'getPayment',
        tags: ['connections'],
        summary: 'A payment the gateway follows: its authorisation, next action and status (polls a decoupled SCA at the bank)',
        parameters: [{ ...idParameter, name: 'paymentId' }],
        responses: { '200': { description: 'The payment.', content: json(ref(paymentViewSchema, 'output')) }, ...PROBLEMS },
      },
    },
    [`${prefix}/connections/{connectionId}/psu-data`]: {
      post: {
        operationId: 'sendPsuData',
        tags: ['connections'],
        summary: "Answer an embedded SCA step with the PSU's data",
        parameters: [idParameter],
        requestBody: { required: true, content: json(ref(psuDataBody, 'input')) },
        responses: { '200': { description: 'The connection and its next action.', content: json(ref(connectionViewSchema, 'output')) }, ...PROBLEMS },
      },
    },
  };
  return { paths, schemas };
}
