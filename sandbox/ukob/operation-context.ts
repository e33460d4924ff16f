/** What the UK-OB-like bank's operation handlers share: stores, the body checker, answers in the spec's shape. */
import type Provider from 'oidc-provider';
import { bearerValue } from '../bearer-token.js';
import type { OperationRequest } from '../resource-server.js';
import { INTENT_CLAIM } from './authorization-server.js';
import type { BodySchemas, CheckedBody } from './body-schema.js';
import { JSON_TYPE, OB_ERROR, obError } from './errors.js';
import type { FxDesk } from './exchange-rates.js';
import type { IdempotencyStore } from './idempotency.js';
import type { Intent, IntentKind, IntentStore } from './intents.js';

export type Handler = (request: OperationRequest) => Response | Promise<Response>;

export interface UkobOperationContext {
  readonly provider: Provider;
  readonly intents: IntentStore;
  readonly bodies: BodySchemas;
  readonly idempotency: IdempotencyStore;
  readonly fx: FxDesk;
}

/** A JSON answer. */
export function json(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), { status, headers: { 'content-type': JSON_TYPE, ...headers } });
}

/** `Links.Self` of a resource of the request's API. */
export function selfLink(request: OperationRequest, path: string): { Self: string } {
  return { Self: `${request.origin}${request.api.basePath}${path}` };
}

/** The members every consent answer's `Data` starts with. */
export function intentHeader(intent: Intent): { ConsentId: string; CreationDateTime: string; Status: string; StatusUpdateDateTime: string } {
  return { ConsentId: intent.id, CreationDateTime: intent.creationDateTime, Status: intent.status, StatusUpdateDateTime: intent.statusUpdateDateTime };
}

/** A POST whose body `handle` gets once it passed the spec's schema (else the bank's 400 naming the field). */
export function checkedPost(context: UkobOperationContext, handle: (request: OperationRequest, body: CheckedBody) => Response | Promise<Response>): Handler {
  return async (request) => {
    const checked = context.bodies.check(request.api.name, request.route, request.body);
    return checked.ok ? handle(request, checked.body) : checked.response;
  };
}

/**
 * A `checkedPost` that is also idempotent, as the spec asks of resource creation: `x-idempotency-key` required, a
 * repeat with the same key and body answers the first answer, another body under the same key is refused.
 */
export function idempotentPost(context: UkobOperationContext, handle: (request: OperationRequest, body: CheckedBody) => Response | Promise<Response>): Handler {
  const checked = checkedPost(context, handle);
  return (request) => context.idempotency.run(`${request.token.clientId} ${request.route.operationId}`, request.headers.get('x-idempotency-key'), request.body, async () => checked(request));
}

/** ISO 8601 with an explicit offset, as OB responses write date-times. */
export function isoNow(): string {
  return new Date().toISOString().replace(/\.\d{3}Z$/, '+00:00');
}

/**
 * The intent a PSU token was issued for (the `openbanking_intent_id` oidc-provider stored with it), checked against
 * the token's client, PSU and the expected kind; a 403 when the token is not one of that kind's consents.
 */
export async function psuIntent<K extends IntentKind>(context: UkobOperationContext, request: OperationRequest, kind: K): Promise<Extract<Intent, { kind: K }> | Response> {
  const value = bearerValue(request.headers.get('authorization'));
  const token = value ? await context.provider.AccessToken.find(value) : undefined;
  const intentId = (token?.extra as Record<string, unknown> | undefined)?.[INTENT_CLAIM];
  const intent = typeof intentId === 'string' ? context.intents.get(intentId) : undefined;
  if (!intent || intent.clientId !== request.token.clientId || intent.psuId !== request.token.accountId || intent.grantId !== token?.grantId) {
    return obError(403, OB_ERROR.otherReason, 'the access token is not bound to a consent of this client and PSU');
  }
  if (intent.kind !== kind) return obError(403, OB_ERROR.otherReason, `the access token was issued for an ${intent.kind} consent, not an ${kind} one`);
  return intent as Extract<Intent, { kind: K }>;
}

/** Revokes what an intent's grant issued (access and refresh tokens) and the grant itself: a cancelled consent's tokens die with it. */
export async function revokeGrant(context: UkobOperationContext, intent: Intent): Promise<void> {
  if (!intent.grantId) return;
  await (context.provider.AccessToken as unknown as { adapter: { revokeByGrantId(id: string): Promise<void> } }).adapter.revokeByGrantId(intent.grantId);
  await (await context.provider.Grant.find(intent.grantId))?.destroy();
}

/**
 * The `GET` and `DELETE` of a consent of `kind` the calling client owns: its body (`body`); or `CANC`, its grant's
 * tokens revoked, 204. Another client's consent, or none, is the bank's 400 naming `what`.
 */
export function consentResource<K extends IntentKind>(context: UkobOperationContext, kind: K, what: string, body: (request: OperationRequest, intent: Extract<Intent, { kind: K }>) => unknown): { read: Handler; revoke: Handler } {
  const own = (request: OperationRequest): Extract<Intent, { kind: K }> | Response =>
    context.intents.ofClient(request.params.ConsentId ?? '', request.token.clientId, kind) ?? obError(400, OB_ERROR.notFound, `no ${what} consent ${request.params.ConsentId}`, 'ConsentId');
  return {
    read(request) {
      const intent = own(request);
      return intent instanceof Response ? intent : json(200, body(request, intent));
    },
    async revoke(request) {
      const intent = own(request);
      if (intent instanceof Response) return intent;
      context.intents.setStatus(intent, 'CANC');
      await revokeGrant(context, intent);
      return new Response(null, { status: 204 });
    },
  };
}
