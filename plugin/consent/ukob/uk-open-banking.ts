/**
 * The UK Open Banking Read/Write 4.0 consent protocol, intent first: the intent (created here with the TPP's
 * client-credentials token for account access, `POST /account-access-consents`; or created by the caller through the
 * gateway and named by its `ConsentId`: a domestic or international payment, scheduled payment or standing order
 * consent (signed, idempotent, single use), a domestic VRP consent (a long-lived mandate: many payments within its ControlParameters,
 * the caller submits each through the gateway with the connection's token, refreshed like an account-access one), a
 * funds-confirmation consent (its `DebtorAccount` is the caller's to give), an account-access consent of its own
 * making), status `AWAU` → the PSU's authorization bound to it (the `openbanking_intent_id` essential claim, sent the
 * way the bank's `authorizationRequest` says: FAPI 2.0 PAR, or FAPI 1 Advanced signed request object and hybrid
 * response) → code → tokens, the id_token's intent checked → the intent read again (`AUTH`). The intent's `GET` and
 * `DELETE` use the client-credentials token. A `payments` consent id is a payment order consent of one of the six
 * kinds or a VRP consent: the bank is asked which (the read that finds it). File payments are not handled yet.
 */
import * as oauth from 'oauth4webapi';
import { BankgateError } from '../../errors/bankgate-error.js';
import type { Connection } from '../../store/connection.js';
import { finishAuthorization, startAuthorization } from '../../oauth/authorization-request.js';
import { toOAuthError } from '../../tokens/oauth-error.js';
import type { RevocationOutcome } from '../../tokens/revoke.js';
import { toTokenSet } from '../../tokens/token-set.js';
import { createdIntentCollection } from './created-intents.js';
import { callOperation, mountedPath, mountsOperation, type OperationResult } from './operations.js';
import type { UkOpenBankingConsentConfig } from '../config-schema.js';
import type { ConsentContext, ConsentProtocol, ConsentRecord, ConsentRequest, ConsentService, ConsentStatus, Step } from '../protocol.js';

/** One kind of intent: its scope and the operations that read and end it. */
interface IntentKind {
  readonly name: string;
  readonly scope: string;
  readonly read: { readonly operationId: string; readonly idParam: string };
  /** Absent: the intent cannot be deleted (a payment consent ends with its payment or its expiry). */
  readonly remove?: { readonly operationId: string; readonly idParam: string };
  /** A single-use payment order consent: the operation that submits its order and the id the bank answers it with. */
  readonly submit?: { readonly operationId: string; readonly idField: string };
}

const ACCOUNT_ACCESS: IntentKind = {
  name: 'account-access',
  scope: 'accounts',
  read: { operationId: 'GetAccountAccessConsentsConsentId', idParam: 'ConsentId' },
  remove: { operationId: 'DeleteAccountAccessConsentsConsentId', idParam: 'ConsentId' },
};
/** A single-use payment order consent of the PISP spec, by its operationIds' stem and its order's id member. */
function paymentOrder(name: string, stem: string, idField: string): IntentKind {
  return { name, scope: 'payments', read: { operationId: `Get${stem}ConsentsConsentId`, idParam: 'ConsentId' }, submit: { operationId: `Create${stem}s`, idField } };
}
const DOMESTIC_PAYMENT = paymentOrder('domestic-payment', 'DomesticPayment', 'DomesticPaymentId');
const DOMESTIC_SCHEDULED_PAYMENT = paymentOrder('domestic-scheduled-payment', 'DomesticScheduledPayment', 'DomesticScheduledPaymentId');
const DOMESTIC_STANDING_ORDER = paymentOrder('domestic-standing-order', 'DomesticStandingOrder', 'DomesticStandingOrderId');
const INTERNATIONAL_PAYMENT = paymentOrder('international-payment', 'InternationalPayment', 'InternationalPaymentId');
const INTERNATIONAL_SCHEDULED_PAYMENT = paymentOrder('international-scheduled-payment', 'InternationalScheduledPayment', 'InternationalScheduledPaymentId');
// The order's id in its body (its paths call it InternationalStandingOrderPaymentId).
const INTERNATIONAL_STANDING_ORDER = paymentOrder('international-standing-order', 'InternationalStandingOrder', 'InternationalStandingOrderId');
const FUNDS_CONFIRMATION: IntentKind = {
  name: 'funds-confirmation',
  scope: 'fundsconfirmations',
  read: { operationId: 'GetFundsConfirmationConsentsConsentId', idParam: 'ConsentId' },
  remove: { operationId: 'DeleteFundsConfirmationConsentsConsentId', idParam: 'ConsentId' },
};
/** A VRP mandate: many payments, so it lives (and is refreshed) like an account-access consent, and can be deleted. */
const DOMESTIC_VRP: IntentKind = {
  name: 'domestic-vrp',
  scope: 'payments',
  read: { operationId: 'domesticVrpConsentsGet', idParam: 'ConsentId' },
  remove: { operationId: 'domesticVrpConsentsDelete', idParam: 'ConsentId' },
};
// The payment kinds in the order a `payments` consent id is looked up: the earlier ones are asked first.
const ALL_KINDS = [
  ACCOUNT_ACCESS,
  DOMESTIC_PAYMENT,
  DOMESTIC_VRP,
  DOMESTIC_SCHEDULED_PAYMENT,
  DOMESTIC_STANDING_ORDER,
  INTERNATIONAL_PAYMENT,
  INTERNATIONAL_SCHEDULED_PAYMENT,
  INTERNATIONAL_STANDING_ORDER,
  FUNDS_CONFIRMATION,
];
const KINDS = new Map(ALL_KINDS.map((kind) => [kind.name, kind]));
/** The kinds an existing intent named by `consentId` may be, by its scope, in the order the bank is asked. */
function kindsOfScope(scope: string): IntentKind[] {
  return ALL_KINDS.filter((kind) => kind.scope === scope);
}

export const UK_OPEN_BANKING = 'uk-open-banking';

/** The 4.0 statuses after which a consent gives no access any more → the reason code the gateway records. */
const ENDED: Readonly<Record<string, string>> = { RJCT: 'consent_rejected', EXPD: 'consent_expired', CANC: 'consent_revoked' };

/**
 * The 4.0 payment types whose consents this protocol cannot have the PSU authorise yet (domestic and international
 * payments, scheduled payments and standing orders, domestic VRP, account access and funds confirmation are intent
 * kinds here), and the amendment of a VRP consent (PUT/PATCH: a changed mandate the PSU has not seen): each of their
 * operations answers 501 at the gateway, whatever the bank would do. By the operationId stems of the PISP and VRP specs.
 */
const NOT_YET: readonly { readonly stem: RegExp; readonly what: string }[] = [
  { stem: /^(Create|Get)FilePayment/, what: 'file payments' },
  { stem: /^domesticVrpConsents(Put|Patch)$/, what: 'amending a VRP consent (PUT or PATCH: create a new consent for the PSU to authorise)' },
];

/** The account information reads of the 4.0 AIS spec (bulk and per account). */
const ACCOUNT_READ = /^Get(Accounts|Balances|Beneficiaries|DirectDebits|Offers|Party|Products|ScheduledPayments|StandingOrders|Statements|Transactions)/;

/** The 4.0 account-access intent as the bank answers it (the members read here). */
interface AccountAccessConsent {
  readonly Data?: { readonly ConsentId?: unknown; readonly Status?: unknown; readonly Permissions?: unknown; readonly ExpirationDateTime?: unknown };
}

/** The claims parameter that binds the authorization to the intent (OB security profile: essential, by value). */
export function intentClaims(intentId: string): string {
  const claim = { openbanking_intent_id: { value: intentId, essential: true } };
  return JSON.stringify({ id_token: claim, userinfo: claim });
}

function recordOf(kind: IntentKind, body: unknown, checkedAt: number): ConsentRecord {
  const data = (body as AccountAccessConsent | undefined)?.Data;
  const id = typeof data?.ConsentId === 'string' ? data.ConsentId : undefined;
  const status = typeof data?.Status === 'string' ? data.Status : undefined;
  const permissions = Array.isArray(data?.Permissions) ? data.Permissions.filter((p): p is string => typeof p === 'string') : undefined;
  return {
    protocol: UK_OPEN_BANKING,
    ...(id ? { id } : {}),
    ...(status ? { status } : {}),
    checkedAt,
    data: { kind: kind.name, ...(permissions ? { permissions } : {}), ...(typeof data?.ExpirationDateTime === 'string' ? { expirationDateTime: data.ExpirationDateTime } : {}) },
  };
}

/** The intent as the bank holds it now, read with the client-credentials token. */
async function readIntent(context: ConsentContext, kind: IntentKind, intentId: string): Promise<ConsentRecord> {
  const read = await callOperation(context, kind.read.operationId, { token: await context.clientAccessToken([kind.scope]), pathParams: { [kind.read.idParam]: intentId } });
  return recordOf(kind, read.json, context.now());
}

/** The services of `ConsentRequest.access` as 4.0 permissions (each service with what reads it in detail). */
const PERMISSIONS_OF_SERVICE: Readonly<Record<ConsentService, readonly string[]>> = {
  accounts: ['ReadAccountsDetail'],
  balances: ['ReadBalances'],
  transactions: ['ReadTransactionsDetail', 'ReadTransactionsCredits', 'ReadTransactionsDebits'],
};

/**
 * The account-access intent's `Data` for a connection request: `access: 'all'` is the bank's configured
 * `consent.permissions`, a services list maps to their permissions; `validUntil` (else `consent.expiresInDays`) is the
 * `ExpirationDateTime`. A list of accounts cannot be asked for (the PSU picks them at the bank): 400.
 */
function accountAccessOf(context: ConsentContext, request: ConsentRequest): { Permissions: readonly string[]; ExpirationDateTime?: string } {
  const settings = settingsOf(context);
  const { access } = request;
  if (access !== 'all' && (access.accounts?.length ?? 0) > 0) {
    throw new BankgateError('bad_request', { status: 400, bank: context.bank.name, detail: `bank ${context.bank.name} speaks UK Open Banking: the PSU picks the accounts at the bank; leave access.accounts out` });
  }
  const permissions = access === 'all' || access.services === undefined ? settings.permissions : [...new Set(access.services.flatMap((service) => PERMISSIONS_OF_SERVICE[service]))];
  const expiration = request.validUntil !== undefined ? `${request.validUntil}T23:59:59+00:00` : settings.expiresInDays !== undefined ? new Date(context.now() + settings.expiresInDays * 86_400_000).toISOString() : undefined;
  return { Permissions: permissions, ...(expiration ? { ExpirationDateTime: expiration } : {}) };
}

/**
 * The intent named by the caller, read as each kind its scope allows until the bank knows it (a `payments` consent
 * id may be any payment kind's; an ASPSP answers 400 for an id that is not of the kind read), the kind it was created
 * as through this process first. None: the first refusal, as the bank gave it.
 */
async function findIntent(context: ConsentContext, kinds: readonly IntentKind[], intentId: string, token: string, headers: Record<string, string>): Promise<{ kind: IntentKind; read: OperationResult }> {
  // Created through this process: read as the kind it was created as first (created-intents.ts).
  const collection = createdIntentCollection(context.bank, intentId);
  const createdAs = collection === undefined ? undefined : kinds.find((kind) => mountedPath(context, kind.read.operationId)?.startsWith(`${collection}/`));
  const ordered = createdAs ? [createdAs, ...kinds.filter((kind) => kind !== createdAs)] : kinds;
  let refusal: unknown;
  for (const kind of ordered) {
    try {
      return { kind, read: await callOperation(context, kind.read.operationId, { token, pathParams: { [kind.read.idParam]: intentId }, headers }) };
    } catch (error) {
      // Another kind may know it; anything but the bank's 400 (its transport, its 5xx) is not an answer about the id.
      if (!(error instanceof BankgateError && error.code === 'bank_bad_request')) throw error;
      refusal ??= error;
    }
  }
  throw refusal;
}

/** `x-fapi-customer-ip-address` when the PSU is present (its IP known). */
function psuHeaders(ip: string | undefined): Record<string, string> {
  return ip ? { 'x-fapi-customer-ip-address': ip } : {};
}

/**
 * The payment order of an authorised payment order consent (a domestic or international payment, scheduled payment or standing order),
 * submitted by the gateway: `Initiation` and `Risk` exactly as the consent holds them (the bank refuses any
 * difference), with the PSU's token, signed, and under an idempotency key derived from the consent, so that a second
 * attempt (a retried callback, a replica's) is the same payment. Recorded as `paymentId` whatever the order's kind.
 */
async function submitPayment(context: ConsentContext, submit: NonNullable<IntentKind['submit']>, intentId: string, consentBody: unknown, psuToken: string): Promise<Record<string, string>> {
  const { Data, Risk } = (consentBody ?? {}) as { Data?: { Initiation?: unknown }; Risk?: unknown };
  if (Data?.Initiation === undefined) throw new BankgateError('bank_response_invalid', { status: 502, bank: context.bank.name, detail: `bank ${context.bank.name} answered the payment consent without Data.Initiation` });
  const submitted = await callOperation(context, submit.operationId, {
    token: psuToken,
    body: { Data: { ConsentId: intentId, Initiation: Data.Initiation }, Risk: Risk ?? {} },
    idempotencyKey: `payment-of:${intentId}`,
  });
  const payment = (submitted.json as { Data?: Record<string, unknown> } | undefined)?.Data;
  const paymentId = payment?.[submit.idField];
  if (typeof paymentId !== 'string') throw new BankgateError('bank_response_invalid', { status: 502, bank: context.bank.name, detail: `bank ${context.bank.name} answered ${submit.operationId} without Data.${submit.idField}` });
  context.log.info('payment.submitted', { bank: context.bank.name, interactionId: submitted.interactionId });
  return { paymentId, ...(typeof payment?.Status === 'string' ? { paymentStatus: payment.Status } : {}) };
}

/** `banks.<bank>.consent` of a bank that speaks this protocol (the engine only runs it for those). */
function settingsOf(context: ConsentContext): UkOpenBankingConsentConfig {
  const consent = context.bank.consent;
  if (consent.protocol !== UK_OPEN_BANKING) throw new BankgateError('config_invalid', { status: 500, bank: context.bank.name, detail: `banks.${context.bank.name}.consent.protocol is ${consent.protocol}, not ${UK_OPEN_BANKING}` });
  return consent;
}

export const ukOpenBanking: ConsentProtocol = {
  name: UK_OPEN_BANKING,
  authorisesExisting: true,
  // Permissions from `access`, `ExpirationDateTime` from `validUntil`, the intent kind from `scopes`; a 4.0 consent has
  // no one-off flag nor a frequency.
  terms: ['access', 'validUntil', 'scopes'],

  async begin(context, input) {
    const { bank } = context;
    const { request } = input;
    const scopes = request.scopes ?? [ACCOUNT_ACCESS.scope];
    // The kinds the bank mounts an API for; none mounted: all of them, so that the read names the API to mount.
    const ofScope = request.consentId === undefined ? [ACCOUNT_ACCESS] : scopes.length === 1 ? kindsOfScope(scopes[0]!) : [];
    const mounted = ofScope.filter((kind) => mountsOperation(context, kind.read.operationId));
    const candidates = mounted.length > 0 ? mounted : ofScope;
    if (candidates.length === 0 || (request.consentId === undefined && (scopes.length !== 1 || scopes[0] !== ACCOUNT_ACCESS.scope))) {
      throw new BankgateError('bad_request', {
        status: 400,
        bank: bank.name,
        detail:
          `bank ${bank.name} speaks UK Open Banking: a connection is a new account-access consent (scopes: ["accounts"]), or the authorisation of an ` +
          `intent created through the gateway, named by consentId with its one scope (accounts, payments or fundsconfirmations); got scopes ${JSON.stringify(scopes)}`,
      });
    }
    let kind = candidates[0]!;
    // What the new account-access intent asks for, checked before anything reaches the bank.
    const asked = request.consentId === undefined ? accountAccessOf(context, request) : undefined;
    const token = await context.clientAccessToken([kind.scope]);
    let consent: ConsentRecord;
    let interactionId: string | undefined;
    if (request.consentId === undefined) {
      const created = await callOperation(context, 'CreateAccountAccessConsents', {
        token,
        body: { Data: asked, Risk: {} },
        headers: psuHeaders(request.psu.ipAddress),
        // Every connection its own intent, whatever an idempotency-keyed bank would make of two equal bodies.
        idempotencyKey: crypto.randomUUID(),
      });
      consent = recordOf(kind, created.json, context.now());
      interactionId = created.interactionId;
      if (!consent.id) throw new BankgateError('bank_response_invalid', { status: 502, bank: bank.name, detail: `bank ${bank.name} created an account-access consent without Data.ConsentId` });
    } else {
      const found = await findIntent(context, candidates, request.consentId!, token, psuHeaders(request.psu.ipAddress));
      kind = found.kind;
      consent = recordOf(kind, found.read.json, context.now());
      interactionId = found.read.interactionId;
    }
    if (consent.status !== 'AWAU') {
      throw new BankgateError('consent_failed', { status: 409, bank: bank.name, detail: `the ${kind.name} consent is ${consent.status ?? 'in no known status'} at bank ${bank.name}, not AWAU (awaiting authorisation): create another`, extra: { reason: 'consent_not_awaiting' } });
    }
    const started = await startAuthorization(context.oauth, {
      redirectUri: context.callbackUrl,
      scopes: [kind.scope],
      openid: true,
      params: { ...bank.consent.extraParams, claims: intentClaims(consent.id!) },
      state: input.state,
    });
    const { pending } = started;
    context.log.info('consent.intent', { bank: bank.name, intent: kind.name, interactionId });
    return {
      outcome: 'pending',
      nextAction: { type: 'redirect', url: started.authorizeUrl },
      session: { intentId: consent.id, kind: kind.name, scopes: [kind.scope] },
      oauth: { codeVerifier: pending.codeVerifier, redirectUri: pending.redirectUri, ...(pending.nonce ? { nonce: pending.nonce } : {}) },
      consent,
    };
  },

  async continue(context, pending, input, connection): Promise<Step> {
    const { bank } = context;
    if (input.kind !== 'callback') {
      throw new BankgateError('bad_request', { status: 409, bank: bank.name, detail: `this consent waits for the PSU at the bank (a redirect); there is nothing to ${input.kind === 'poll' ? 'poll' : 'answer'}` });
    }
    const intentId = typeof pending.session.intentId === 'string' ? pending.session.intentId : undefined;
    const kind = KINDS.get(String(pending.session.kind ?? ACCOUNT_ACCESS.name));
    if (!intentId || !kind || !pending.oauth) throw new BankgateError('consent_failed', { status: 400, bank: bank.name, detail: 'this consent was started without an intent: start again with POST /connections' });
    // The authorization response: the query (FAPI 2.0), or the fragment relayed into the query (FAPI 1 hybrid).
    const params = new URLSearchParams(input.url.search);
    let finished;
    try {
      const thumbprint = context.oauth.certificateThumbprint();
      finished = { ...(await finishAuthorization(context.oauth, params, { state: pending.state, ...pending.oauth }, { requireIdToken: true })), thumbprint };
    } catch (error) {
      const failure = toOAuthError(bank.name, 'authorization code exchange', error);
      // Anything but the PSU's refusal (a forged or replayed response, the bank refusing the code) fails the consent
      // the way the other protocols do: the engine answers the error's status (oauth/protocol.ts does the same).
      if (!(error instanceof oauth.AuthorizationResponseError && error.error === 'access_denied')) throw failure;
      // Refused: the intent as the bank left it (RJCT) is shown on the connection.
      const refused = await readIntent(context, kind, intentId).catch(() => undefined);
      return { outcome: 'failed', ...(refused ? { consent: refused } : {}), reason: { code: 'consent_rejected', detail: failure.message } };
    }
    const bound = finished.idToken?.openbanking_intent_id;
    if (bound !== intentId) {
      return { outcome: 'failed', reason: { code: 'consent_failed', detail: `bank ${bank.name} issued an id_token for ${typeof bound === 'string' ? 'another intent' : 'no intent'} (openbanking_intent_id), not the consent the PSU was sent to authorise` } };
    }
    const read = await callOperation(context, kind.read.operationId, { token: await context.clientAccessToken([kind.scope]), pathParams: { [kind.read.idParam]: intentId } });
    const consent = recordOf(kind, read.json, context.now());
    if (consent.status !== 'AUTH') {
      return { outcome: 'failed', consent, reason: { code: 'consent_failed', detail: `the consent is ${consent.status ?? 'in no known status'} at bank ${bank.name} after the PSU's authorisation, not AUTH` } };
    }
    const scopes = finished.tokens.scope ? finished.tokens.scope.split(' ').filter((scope) => scope !== 'openid') : [kind.scope];
    const submitted = kind.submit && settingsOf(context).submitPayments ? await submitPayment(context, kind.submit, intentId, read.json, finished.tokens.access_token) : undefined;
    const authorised: Step = {
      outcome: 'authorised',
      consent: submitted ? { ...consent, data: { ...consent.data, ...submitted } } : consent,
      tokens: toTokenSet(finished.tokens, context.now(), undefined, finished.thumbprint),
      scopes,
      ...(typeof finished.idToken?.sub === 'string' ? { subject: finished.idToken.sub } : {}),
    };
    // A re-consent of an active connection: the intent it replaces is ended at the bank (best effort), unless the
    // engine is about to refuse the new one for being another PSU's (consent.subjectChange), which keeps the old.
    const previous = connection.status === 'active' ? connection.consent : undefined;
    const subject = typeof finished.idToken?.sub === 'string' ? finished.idToken.sub : undefined;
    const refusedAsOtherPsu = connection.subject !== undefined && subject !== undefined && subject !== connection.subject && settingsOf(context).subjectChange === 'refuse';
    if (previous?.id && previous.id !== intentId && !refusedAsOtherPsu) {
      const revocation = await ukOpenBanking.revoke(context, connection);
      context.log.info('consent.replaced', { bank: bank.name, connectionId: connection.id, revocation });
    }
    return authorised;
  },

  async status(context, connection: Connection): Promise<ConsentStatus> {
    const intentId = connection.consent?.id;
    const kind = KINDS.get(String(connection.consent?.data?.kind ?? ''));
    if (!intentId || !kind) return { state: 'unknown' };
    const read = await callOperation(context, kind.read.operationId, { token: await context.clientAccessToken([kind.scope]), pathParams: { [kind.read.idParam]: intentId } });
    const now = recordOf(kind, read.json, context.now());
    // What the gateway recorded (a submitted payment's id) stays; the bank's words are the fresh ones.
    const consent = { ...now, data: { ...connection.consent?.data, ...now.data } };
    const ended = consent.status !== undefined ? ENDED[consent.status] : undefined;
    if (ended) return { state: 'ended', consent, reason: { code: ended, detail: `the consent is ${consent.status} at bank ${context.bank.name}` } };
    // AUTH, and COND (a payment consent whose payment was made): in force for what it allows.
    return { state: consent.status === 'AUTH' || consent.status === 'COND' ? 'active' : 'unknown', consent };
  },

  callCredentials() {
    // The PSU's token only: UK Open Banking resource calls carry no consent header of their own.
    return { headers: {}, token: 'required' };
  },

  unsupported(route) {
    const type = NOT_YET.find((candidate) => candidate.stem.test(route.operationId));
    return type && `bankgate's UK Open Banking protocol does not handle ${type.what} yet (their consents cannot be authorised through the gateway); domestic and international payments, scheduled payments and standing orders, domestic VRP, account access and funds confirmation are supported`;
  },

  countsAsUnattendedRead(route) {
    // Account information reads (not the consent endpoints); the PSU is present when the caller sends its IP address.
    return route.method.toUpperCase() === 'GET' && ACCOUNT_READ.test(route.operationId);
  },

  async revoke(context, connection): Promise<RevocationOutcome> {
    const intentId = connection.consent?.id;
    const kind = KINDS.get(String(connection.consent?.data?.kind ?? ''));
    if (!intentId || !kind) return 'nothing_to_revoke';
    // A payment consent cannot be deleted: it ends with its payment (single use) or its expiry.
    if (!kind.remove) return 'not_supported';
    try {
      // The bank revokes the consent's tokens with it (OB: a deleted consent ends its access and refresh tokens).
      await callOperation(context, kind.remove.operationId, { token: await context.clientAccessToken([kind.scope]), pathParams: { [kind.remove.idParam]: intentId } });
      return 'revoked';
    } catch (error) {
      context.log.warn('connection.revoke_failed', { bank: context.bank.name, connectionId: connection.id, detail: error instanceof BankgateError ? error.message : 'unexpected error' });
      return 'failed';
    }
  },
};
