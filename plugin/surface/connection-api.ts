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

export const createConnectionBody = z
  .strictObject({
    bank: z.string().min(1).meta({ description: 'The bank, as mounted (`/{bank}/…`).' }),
    connectionId: connectionIdSchema.optional().meta({ description: 'Your id for the connection; generated when absent.' }),
    scopes: z.array(z.string().min(1)).optional().meta({ description: "Scopes to ask the bank for; default: every PSU scope of the bank's mounted APIs." }),
    returnTo: z.string().optional().meta({ description: 'Where the PSU is sent after the consent (absolute http(s) URL), with `connectionId` and `status` added to its query.' }),
    consentId: z
      .string()
      .regex(/^[A-Za-z0-9._:-]{1,128}$/, 'must be the bank\'s ConsentId (1–128 characters of A–Z, a–z, 0–9, ".", "_", ":" or "-")')
      .optional()
      .meta({ description: "UK Open Banking: an intent created through the gateway (`Data.ConsentId`, status AWAU) for the PSU to authorise, with its one scope (`payments`, `fundsconfirmations` or `accounts`); the connection then carries the PSU's token for it (a payment's submission, funds confirmations, account reads)." }),
  })
  .meta({ id: 'ConnectionCreate', description: 'Starts a PSU consent at a bank.' });

export const connectionStatusSchema = z.enum(['pending', 'active', 'reconsent_required', 'revoked']);

export const connectionViewSchema = z
  .object({
    connectionId: z.string(),
    bank: z.string(),
    status: connectionStatusSchema,
    scopes: z.array(z.string()),
    accessTokenExpiresAt: z.string().nullable().meta({ description: "When the bank's current access token expires (ISO 8601); the gateway refreshes it before." }),
    createdAt: z.string(),
    updatedAt: z.string(),
    reason: z.object({ code: z.string(), detail: z.string() }).optional().meta({ description: 'Why the connection is not active.' }),
    consent: z
      .object({
        id: z.string().optional().meta({ description: "The bank's id of the consent (UK Open Banking `ConsentId`)." }),
        status: z.string().optional().meta({ description: "The bank's status word when last read (`AWAU`, `AUTH`, …)." }),
        paymentId: z.string().optional().meta({ description: 'The payment the gateway submitted from this consent (`banks.<bank>.consent.ukOpenBanking.submitPayments`).' }),
      })
      .optional()
      .meta({ description: 'The consent as the bank holds it, for banks with a consent resource (UK Open Banking intents).' }),
  })
  .meta({ id: 'Connection', description: 'A PSU consent at a bank and its state; never a token.' });

export const connectionCreatedSchema = connectionViewSchema
  .extend({ authorizeUrl: z.string().meta({ description: "The bank's authorization URL: send the PSU's browser there." }) })
  .meta({ id: 'ConnectionCreated' });

export const connectionRevokedSchema = z
  .object({
    connectionId: z.string(),
    status: z.literal('revoked'),
    revocation: z.string().meta({ description: 'What the bank said: `revoked`, `not_supported` (the bank has no revocation endpoint), or a failure kept for the record.' }),
  })
  .meta({ id: 'ConnectionRevoked' });

export type ConnectionView = z.infer<typeof connectionViewSchema>;

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
  };
  return { paths, schemas };
}
