/**
 * The UK-OB-like resource server: the Read/Write 4.0 AISP, PISP (domestic and international payments, scheduled
 * payments, standing orders), CBPII and domestic VRP operations (file payments and the VRP consent's PUT and PATCH
 * routed, answering 501)
 * under `/open-banking/v4.0/<api>`, on the shared pipeline (route, required headers, token, token kind and scope),
 * plus what this bank checks, in order:
 *   `x-fapi-interaction-id` an RFC 4122 UUID and `x-fapi-auth-date` an RFC 7231 date when sent (400 U006);
 *   the access token certificate-bound to this connection's client certificate (RFC 8705; 401 otherwise);
 *   a request body in one of the operation's media types (415 otherwise);
 *   on the payment POSTs, `x-jws-signature` verified against the client's registered JWKS (jws.ts; 400 U015–U019);
 * then the operation (consent binding, permissions, idempotency, VRP limits: account-information.ts, payment-initiation.ts,
 * funds-confirmation.ts, variable-recurring-payments.ts).
 * Every answer plays back `x-fapi-interaction-id` (one is generated when the TPP sent none); payment answers carry
 * the bank's own `x-jws-signature`, verifiable with the JWKS it publishes.
 */
import { randomUUID } from 'node:crypto';
import type Provider from 'oidc-provider';
import type { BankResourceProfile } from '../resource-server.js';
import { accountInformationOperations } from './account-information.js';
import type { BodySchemas } from './body-schema.js';
import { OB_ERROR, obError, ukobError, unauthorized } from './errors.js';
import { fundsConfirmationOperations } from './funds-confirmation.js';
import { IdempotencyStore } from './idempotency.js';
import type { FxDesk } from './exchange-rates.js';
import type { IntentStore } from './intents.js';
import { signDetachedJws, verifyDetachedJws } from './jws.js';
import type { BankSigningKey } from './keys.js';
import { paymentInitiationOperations } from './payment-initiation.js';
import { variableRecurringPaymentOperations } from './variable-recurring-payments.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** The spec's pattern for `x-fapi-auth-date`. */
const AUTH_DATE = /^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{2} (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} \d{2}:\d{2}:\d{2} (GMT|UTC)$/;
/** The PISP (and VRP) base path: the APIs whose answers the bank signs. */
const SIGNED_BASE = '/open-banking/v4.0/pisp/';

export interface UkobResourceProfileOptions {
  readonly provider: Provider;
  readonly intents: IntentStore;
  /** The bank's FX contracts (international payments' Agreed rates). */
  readonly fx: FxDesk;
  readonly bodies: BodySchemas;
  /** The `http://openbanking.org.uk/iss` each client must sign with. */
  readonly jwsIssuers: ReadonlyMap<string, string>;
  readonly trustAnchor: string;
  readonly signing: BankSigningKey;
}

/** The bank's profile for the shared resource-server pipeline (see the module comment for what it adds). */
export function createUkobResourceProfile(options: UkobResourceProfileOptions): BankResourceProfile {
  const { provider, signing } = options;
  const context = { provider, intents: options.intents, fx: options.fx, bodies: options.bodies, idempotency: new IdempotencyStore() };

  async function registeredJwks(clientId: string) {
    const client = await provider.Client.find(clientId);
    return (client?.metadata().jwks as { keys: never[] } | undefined) ?? { keys: [] };
  }

  return {
    bank: 'ukob',
    error: (kind, status, message) => ukobError(kind, status, message),

    async verify(request) {
      const interactionId = request.headers.get('x-fapi-interaction-id');
      if (interactionId !== null && !UUID.test(interactionId)) {
        return obError(400, OB_ERROR.headerInvalid, 'x-fapi-interaction-id must be an RFC 4122 UUID', 'x-fapi-interaction-id');
      }
      const authDate = request.headers.get('x-fapi-auth-date');
      if (authDate !== null && !AUTH_DATE.test(authDate)) {
        return obError(400, OB_ERROR.headerInvalid, 'x-fapi-auth-date must be an RFC 7231 date (Sun, 10 Sep 2017 19:43:31 GMT)', 'x-fapi-auth-date');
      }
      if (!request.token.x5tS256) return unauthorized('the access token is not sender-constrained; this bank issues certificate-bound tokens only');
      if (request.token.x5tS256 !== request.clientCertThumbprint) {
        return unauthorized('the access token is bound to another client certificate (x5t#S256 mismatch, RFC 8705)');
      }
      const contentTypes = request.route.requestBody?.contentTypes.map((type) => type.split(';')[0]!.trim().toLowerCase());
      if (contentTypes && request.body.byteLength > 0 && !contentTypes.includes((request.headers.get('content-type') ?? '').split(';')[0]!.trim().toLowerCase())) {
        // 415 carries no body in the spec.
        return new Response(null, { status: 415 });
      }
      if (request.route.params.header.some((p) => p.name.toLowerCase() === 'x-jws-signature')) {
        const verdict = await verifyDetachedJws(request.headers.get('x-jws-signature'), request.body, {
          jwks: await registeredJwks(request.token.clientId),
          issuer: options.jwsIssuers.get(request.token.clientId) ?? '',
          trustAnchor: options.trustAnchor,
        });
        if (!verdict.ok) return obError(400, verdict.code, verdict.message, verdict.path);
      }
      return undefined;
    },

    async finish(request, response) {
      const headers = new Headers(response.headers);
      headers.set('x-fapi-interaction-id', request.headers.get('x-fapi-interaction-id') ?? randomUUID());
      let body: BodyInit | null = response.body;
      if (request.target.startsWith(SIGNED_BASE) && /json/i.test(headers.get('content-type') ?? '')) {
        const bytes = new Uint8Array(await response.arrayBuffer());
        body = bytes;
        if (bytes.byteLength > 0) {
          headers.set('x-jws-signature', await signDetachedJws(bytes, { privateKey: signing.privateKey, keyId: signing.keyId, issuer: signing.orgId, trustAnchor: options.trustAnchor }));
        }
      }
      return new Response(body, { status: response.status, headers });
    },

    operations: {
      ...accountInformationOperations(context),
      ...paymentInitiationOperations(context),
      ...fundsConfirmationOperations(context),
      ...variableRecurringPaymentOperations(context),
    },
  };
}
