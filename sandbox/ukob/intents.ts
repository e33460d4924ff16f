/**
 * The UK-OB-like bank's intents (consent resources): created by the TPP with a client-credentials token, authorised by
 * the PSU in an authorization request bound to them (`openbanking_intent_id`), then used by the PSU's tokens.
 *
 *   account-access     AWAU → AUTH (PSU approves, selects accounts) | RJCT (PSU refuses)
 *                      AUTH → EXPD (ExpirationDateTime passed) | CANC (TPP deletes it)
 *   domestic-payment   AWAU → AUTH (PSU approves, debtor account fixed) | RJCT;  AUTH → COND (the payment is submitted)
 *   domestic-scheduled-payment, domestic-standing-order, international-payment, international-scheduled-payment,
 *   international-standing-order: the same life as a domestic payment (single use: COND once its order is submitted)
 *   funds-confirmation AWAU → AUTH (the PSU holding the DebtorAccount approves) | RJCT;  AUTH → EXPD | CANC
 *   domestic-vrp       AWAU → AUTH (PSU approves, debtor account fixed) | RJCT;  AUTH → EXPD (ValidToDateTime passed)
 *                      | CANC (TPP deletes it); a long-lived mandate: many payments while AUTH, within its limits
 *
 * Each authorised intent remembers the oidc-provider grant it was authorised in: the tokens of that grant are
 * limited to it, and revoking the intent revokes the grant.
 */
import { randomUUID } from 'node:crypto';

export type ConsentStatus = 'AWAU' | 'AUTH' | 'RJCT' | 'EXPD' | 'CANC' | 'COND';
export type IntentKind = 'account-access' | PaymentOrderKind | 'funds-confirmation' | 'domestic-vrp';
/** The single-use payment order consents of the PISP API: one consent, one payment order. */
export type PaymentOrderKind =
  | 'domestic-payment'
  | 'domestic-scheduled-payment'
  | 'domestic-standing-order'
  | 'international-payment'
  | 'international-scheduled-payment'
  | 'international-standing-order';

/** The scope an authorization request for an intent of this kind must carry. */
export const INTENT_SCOPE: Readonly<Record<IntentKind, string>> = {
  'account-access': 'accounts',
  'domestic-payment': 'payments',
  'domestic-scheduled-payment': 'payments',
  'domestic-standing-order': 'payments',
  'international-payment': 'payments',
  'international-scheduled-payment': 'payments',
  'international-standing-order': 'payments',
  'funds-confirmation': 'fundsconfirmations',
  'domestic-vrp': 'payments',
};

interface IntentBase {
  readonly id: string;
  readonly clientId: string;
  readonly creationDateTime: string;
  status: ConsentStatus;
  statusUpdateDateTime: string;
  /** Set when authorised: the PSU who authorised it and the grant its tokens belong to. */
  psuId?: string;
  grantId?: string;
}

export interface AccountAccessIntent extends IntentBase {
  readonly kind: 'account-access';
  readonly permissions: readonly string[];
  readonly expirationDateTime?: string;
  readonly transactionFromDateTime?: string;
  readonly transactionToDateTime?: string;
  /** The accounts the PSU selected. */
  accountIds: readonly string[];
}

/** What a payment order consent holds, whichever its kind. */
interface PaymentOrderParts {
  /** `Data` as the TPP posted it (`Permission`, `Initiation`, `ReadRefundAccount`, `Authorisation`, …). */
  readonly data: Readonly<Record<string, unknown>>;
  readonly risk: Readonly<Record<string, unknown>>;
  /** What the bank added to `Data` when it took the consent (an international payment's `ExchangeRateInformation`). */
  readonly terms?: Readonly<Record<string, unknown>>;
  /** The debtor account: the Initiation's, or the one the PSU chose. */
  debtorAccountId?: string;
}

/** A payment order consent of one kind. */
export type PaymentOrderIntentOf<K extends PaymentOrderKind> = IntentBase & PaymentOrderParts & { readonly kind: K };
export type PaymentOrderIntent = { [K in PaymentOrderKind]: PaymentOrderIntentOf<K> }[PaymentOrderKind];

export interface FundsConfirmationIntent extends IntentBase {
  readonly kind: 'funds-confirmation';
  readonly debtorAccount: Readonly<{ SchemeName: string; Identification: string; Name?: string; SecondaryIdentification?: string }>;
  readonly expirationDateTime?: string;
  /** The bank's AccountId of the DebtorAccount, once its PSU authorised the consent. */
  debtorAccountId?: string;
}

export interface DomesticVrpIntent extends IntentBase {
  readonly kind: 'domestic-vrp';
  /** `Data` as the TPP posted it (`ControlParameters`, `Initiation`, `ReadRefundAccount`). */
  readonly data: Readonly<Record<string, unknown>>;
  readonly risk: Readonly<Record<string, unknown>>;
  /** `ControlParameters.ValidToDateTime`: the mandate ends (EXPD) then. */
  readonly expirationDateTime?: string;
  /** The debtor account: the Initiation's, or the one the PSU chose. */
  debtorAccountId?: string;
}

export type Intent = AccountAccessIntent | PaymentOrderIntent | FundsConfirmationIntent | DomesticVrpIntent;

/** The id prefix of each payment order consent kind. */
const PAYMENT_ORDER_PREFIX: Readonly<Record<PaymentOrderKind, string>> = {
  'domestic-payment': 'pdc',
  'domestic-scheduled-payment': 'sdc',
  'domestic-standing-order': 'soc',
  'international-payment': 'ipc',
  'international-scheduled-payment': 'isc',
  'international-standing-order': 'ioc',
};

export type AuthorisableResult = { readonly ok: true; readonly intent: Intent } | { readonly ok: false; readonly reason: string };

function now(): string {
  return new Date().toISOString().replace(/\.\d{3}Z$/, '+00:00');
}

export class IntentStore {
  readonly #intents = new Map<string, Intent>();
  readonly #byGrant = new Map<string, string>();

  createAccountAccess(clientId: string, data: { permissions: readonly string[]; expirationDateTime?: string; transactionFromDateTime?: string; transactionToDateTime?: string }): AccountAccessIntent {
    return this.#create('account-access', 'aac', clientId, { accountIds: [], ...data });
  }

  /**
   * A payment order consent of `kind` (a domestic or international payment, scheduled payment or standing order), `Data`
   * and `Risk` as posted, `terms` what the bank added to `Data` (an exchange rate).
   */
  createPaymentOrder<K extends PaymentOrderKind>(kind: K, clientId: string, data: Record<string, unknown>, risk: Record<string, unknown>, terms?: Record<string, unknown>): Extract<Intent, { kind: K }> {
    const parts: PaymentOrderParts = { data: structuredClone(data), risk: structuredClone(risk), ...(terms ? { terms: structuredClone(terms) } : {}) };
    return this.#create(kind, PAYMENT_ORDER_PREFIX[kind], clientId, parts as Omit<Extract<Intent, { kind: K }>, keyof IntentBase | 'kind'>);
  }

  createFundsConfirmation(clientId: string, data: { debtorAccount: FundsConfirmationIntent['debtorAccount']; expirationDateTime?: string }): FundsConfirmationIntent {
    return this.#create('funds-confirmation', 'fcc', clientId, { debtorAccount: structuredClone(data.debtorAccount), ...(data.expirationDateTime ? { expirationDateTime: data.expirationDateTime } : {}) });
  }

  createDomesticVrp(clientId: string, data: Record<string, unknown>, risk: Record<string, unknown>): DomesticVrpIntent {
    const validTo = (data.ControlParameters as { ValidToDateTime?: unknown } | undefined)?.ValidToDateTime;
    return this.#create('domestic-vrp', 'vrp', clientId, { data: structuredClone(data), risk: structuredClone(risk), ...(typeof validTo === 'string' ? { expirationDateTime: validTo } : {}) });
  }

  /** A new intent of `kind`, awaiting authorisation, id `<prefix>-<uuid>`, with what is particular to its kind. */
  #create<K extends IntentKind>(kind: K, prefix: string, clientId: string, particular: Omit<Extract<Intent, { kind: K }>, keyof IntentBase | 'kind'>): Extract<Intent, { kind: K }> {
    const created = now();
    const intent = { kind, id: `${prefix}-${randomUUID()}`, clientId, creationDateTime: created, status: 'AWAU', statusUpdateDateTime: created, ...particular } as Extract<Intent, { kind: K }>;
    this.#intents.set(intent.id, intent);
    return intent;
  }

  /**
   * Ends an awaiting or authorised intent's life now (EXPD), as if its expiry had passed: the control plane's knob for
   * testing what a TPP sees of an expired consent. False when there is no such intent or it is no longer AWAU/AUTH.
   */
  expireNow(id: string): boolean {
    const intent = this.#intents.get(id);
    if (!intent || (intent.status !== 'AWAU' && intent.status !== 'AUTH')) return false;
    this.setStatus(intent, 'EXPD');
    return true;
  }

  /** The intent, with its expiry applied. */
  get(id: string): Intent | undefined {
    const intent = this.#intents.get(id);
    if (intent && 'expirationDateTime' in intent && intent.expirationDateTime && (intent.status === 'AWAU' || intent.status === 'AUTH')) {
      if (Date.parse(intent.expirationDateTime) <= Date.now()) this.setStatus(intent, 'EXPD');
    }
    return intent;
  }

  /** The intent if it exists, is of this kind and belongs to this client; otherwise undefined, whichever the reason. */
  ofClient<K extends IntentKind>(id: string, clientId: string, kind: K): Extract<Intent, { kind: K }> | undefined {
    const intent = this.get(id);
    return intent && intent.clientId === clientId && intent.kind === kind ? (intent as Extract<Intent, { kind: K }>) : undefined;
  }

  /** The intent authorised in this oidc-provider grant. */
  byGrant(grantId: string): Intent | undefined {
    const id = this.#byGrant.get(grantId);
    return id === undefined ? undefined : this.get(id);
  }

  /**
   * Whether this client may send a PSU to authorise the intent with these scopes: it exists, is the client's (an
   * unknown intent and another client's get the same answer), awaits authorisation, and the scope is `openid` plus
   * the one scope of its kind.
   */
  authorisable(id: string, clientId: string, scopes: ReadonlySet<string>): AuthorisableResult {
    const intent = this.get(id);
    if (!intent || intent.clientId !== clientId) return { ok: false, reason: `openbanking_intent_id ${id} is not an intent of this client` };
    if (intent.status !== 'AWAU') return { ok: false, reason: `intent ${id} is ${intent.status}, not AWAU (awaiting authorisation): create a new intent` };
    // Open Banking asks for `openid` and the one scope of the intent's API: a token for one consent, one API.
    const scope = INTENT_SCOPE[intent.kind];
    const others = [...scopes].filter((s) => s !== 'openid' && s !== scope);
    if (!scopes.has('openid') || !scopes.has(scope) || others.length > 0) {
      return { ok: false, reason: `intent ${id} is an ${intent.kind} consent: the request must ask for scope "openid ${scope}" and nothing else` };
    }
    return { ok: true, intent };
  }

  /** The PSU's approval: AWAU → AUTH, bound to the grant the tokens will belong to. */
  authorise(intent: Intent, approval: { psuId: string; grantId: string; accountIds?: readonly string[]; debtorAccountId?: string }): void {
    intent.psuId = approval.psuId;
    intent.grantId = approval.grantId;
    if (intent.kind === 'account-access') intent.accountIds = [...(approval.accountIds ?? [])];
    else intent.debtorAccountId = approval.debtorAccountId;
    this.#byGrant.set(approval.grantId, intent.id);
    this.setStatus(intent, 'AUTH');
  }

  setStatus(intent: Intent, status: ConsentStatus): void {
    if (intent.status === status) return;
    intent.status = status;
    intent.statusUpdateDateTime = now();
  }
}
