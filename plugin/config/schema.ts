import { z } from 'zod';
import type { ApiManifest, PrecompiledValidatorModule } from '../manifest/types.js';
import { consentSchema, paymentsSchema, unattendedSchema } from '../consent/config-schema.js';
import { storeSchema } from '../store/config-schema.js';
import { callersSchema } from '../surface/config-schema.js';
import { mtlsSchema, signingSchema, transportSchema } from '../transport/config-schema.js';
import { authorizationRequestSchema, jwsSchema, privateKeyJwtSchema, senderConstraintSchema } from '../oauth/config-schema.js';
import { authorizationChoiceSchema, credentialSchema } from './credentials-schema.js';
import { NAME_PATTERN, NAME_RULE } from './names.js';
import { secretRefSchema } from './secret-ref.js';

const httpsUrl = z.url({ protocol: /^https$/, error: 'must be an https:// URL' });
const name = z.string().regex(NAME_PATTERN, `must be ${NAME_RULE}`);

/** Static endpoints, as SEB publishes them. */
const staticServerSchema = z.strictObject({
  kind: z.literal('static'),
  issuer: httpsUrl,
  authorizationEndpoint: httpsUrl,
  tokenEndpoint: httpsUrl,
  revocationEndpoint: httpsUrl.optional(),
  /** RFC 9126: needed when `authorizationRequest` pushes requests (`par`, the `fapi2` profile). */
  pushedAuthorizationRequestEndpoint: httpsUrl.optional(),
});

/** OIDC / RFC 8414 discovery, as SG publishes it. */
const discoveryServerSchema = z.strictObject({
  kind: z.literal('discovery'),
  issuer: httpsUrl,
  /** Use the `mtls_endpoint_aliases` of the metadata (RFC 8705 §5): token calls go to the mTLS host. */
  useMtlsEndpointAliases: z.boolean().default(false),
});

const clientAuthSchema = z.discriminatedUnion('method', [
  z.strictObject({ method: z.literal('client_secret_post'), secret: secretRefSchema }),
  z.strictObject({ method: z.literal('client_secret_basic'), secret: secretRefSchema }),
  z.strictObject({ method: z.literal('tls_client_auth') }),
  privateKeyJwtSchema,
]);

const manifestSchema = z.custom<ApiManifest>(
  (value) => typeof value === 'object' && value !== null && Array.isArray((value as ApiManifest).routes) && typeof (value as ApiManifest).bank === 'string',
  'must be a route manifest imported from generated/<bank>/<api>/routes.ts',
);

const apiSchema = z.strictObject({
  manifest: manifestSchema,
  /** Base URL of this API at the bank (server URL including its path), overriding the spec's first server. */
  baseUrl: httpsUrl.optional(),
  /** A different QWAC for this API's calls (the bank's `mtls` otherwise); token requests keep the bank's. */
  mtls: mtlsSchema.optional(),
  /** The normalised OpenAPI document (`generated/<bank>/<api>/openapi.json`): enables validation and full schemas in /openapi.json. */
  document: z.record(z.string(), z.unknown()).optional(),
  /**
   * The document's validators compiled at generate time (`generated/<bank>/<api>/validators.js`): used on every
   * runtime, and what validates on one that cannot compile code (Cloudflare Workers).
   */
  validators: z
    .custom<PrecompiledValidatorModule>(
      (value) => typeof value === 'object' && value !== null && typeof (value as PrecompiledValidatorModule).specSha256 === 'string' && typeof (value as PrecompiledValidatorModule).validators === 'object',
      'must be the default export of generated/<bank>/<api>/validators.js',
    )
    .optional(),
  /** The token of operations that declare `Authorization` without a security scheme (plugin/config/credentials-schema.ts). */
  authorization: authorizationChoiceSchema.optional(),
  /**
   * Request body limits per operation (`operationId` → bytes), in place of the bank's `transport.maxRequestBytes`:
   * a bulk payment file may need more than the default 1 MiB, a small JSON operation less.
   */
  requestBodyLimits: z.record(z.string(), z.number().int().positive()).optional(),
})
  .refine((api) => !api.validators || api.validators.specSha256 === api.manifest.specSha256, {
    path: ['validators'],
    message: 'were generated from another spec than the manifest (specSha256 differs): use validators.js from the same generated/<bank>/<api>/ as routes.ts',
  })
  .superRefine((api, context) => {
    for (const operationId of Object.keys(api.requestBodyLimits ?? {})) {
      if (api.manifest.routes.some((route) => route.operationId === operationId)) continue;
      context.addIssue({ code: 'custom', path: ['requestBodyLimits', operationId], message: `names no operation of this API (${api.manifest.routes.length} operations, e.g. ${api.manifest.routes.slice(0, 3).map((r) => r.operationId).join(', ')})` });
    }
  });

export const bankSchema = z.strictObject({
  displayName: z.string().optional(),
  apis: z.record(name, apiSchema).refine((apis) => Object.keys(apis).length > 0, 'declare at least one API'),
  authorizationServer: z.discriminatedUnion('kind', [staticServerSchema, discoveryServerSchema]),
  client: z.strictObject({ clientId: z.string().min(1), auth: clientAuthSchema }),
  /** How a PSU's consent is obtained (`protocol`: `oauth` by default, `berlin-group`, `uk-open-banking`) and the bank's quirks (plugin/consent/config-schema.ts). */
  consent: consentSchema.optional(),
  /** How payments initiated through the gateway are authorised and followed (`berlin-group`, `stet`). */
  payments: paymentsSchema.optional(),
  /** The unattended-access budget's options (plugin/consent/config-schema.ts). */
  unattended: unattendedSchema,
  /** Plain, PAR, signed request objects, FAPI 2.0 or FAPI 1 Advanced (plugin/oauth/config-schema.ts). */
  authorizationRequest: authorizationRequestSchema,
  /** Access tokens bound to the client certificate (`mtls`, default) or to a DPoP key (plugin/oauth/config-schema.ts). */
  senderConstraint: senderConstraintSchema,
  /** UK Open Banking message signing (`x-jws-signature`) of requests, and verification of the bank's (plugin/oauth/config-schema.ts). */
  jws: jwsSchema.optional(),
  /** The QWAC client certificate presented on every call to this bank (and its token endpoint). */
  mtls: mtlsSchema,
  /** draft-cavage request signing with the QSeal key, for banks that require `Signature`. */
  signing: signingSchema.optional(),
  /** Timeouts, retries, circuit breaker, response size limit, compression (plugin/transport/config-schema.ts). */
  transport: transportSchema,
  /** Values of bank-mandated headers the gateway owns (`TPP-Redirect-URI`, …), sent where an operation declares them. */
  headers: z.record(z.string().regex(/^[A-Za-z0-9-]+$/, 'must be a header name'), z.string()).default({}),
  /** API keys, static bearers, HTTP Basic, by security scheme name (plugin/config/credentials-schema.ts). */
  credentials: z.record(z.string().min(1), credentialSchema).default({}),
  /** Default of `apis.<api>.authorization` for every API of the bank. */
  authorization: authorizationChoiceSchema.optional(),
  /** Refresh this many seconds before the access token expires (capped at a quarter of its lifetime). */
  refreshSkewSeconds: z.number().int().min(0).max(3600).default(30),
});

export const configSchema = z.strictObject({
  /** Public base URL of the gateway, for the OAuth redirect URI `<publicUrl>/callback/<bank>`. */
  publicUrl: z.url().optional(),
  callers: callersSchema,
  /**
   * Origins a connection's `returnTo` may point at (`https://app.example.com`), besides the gateway's own: where the
   * PSU's browser is sent after the consent. Any other `returnTo` is refused (400).
   */
  returnToOrigins: z.array(z.url().refine((url) => new URL(url).origin === url.replace(/\/$/, ''), 'must be an origin: scheme, host and port, no path')).default([]),
  /** Check calls against the bank's spec before calling it; check the bank's responses (`report` logs, `enforce` answers 502). */
  validation: z
    .strictObject({ requests: z.boolean().default(true), responses: z.enum(['off', 'report', 'enforce']).default('off') })
    .default({ requests: true, responses: 'off' }),
  store: storeSchema,
  banks: z.record(name, bankSchema).refine((banks) => Object.keys(banks).length > 0, 'declare at least one bank'),
});

export type BankgateConfig = z.input<typeof configSchema>;
export type ParsedConfig = z.output<typeof configSchema>;
export type ParsedBankConfig = z.output<typeof bankSchema>;
