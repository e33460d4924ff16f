/**
 * The UK-OB-like bank's domestic payment orders (PISP 4.0): immediate payments, scheduled payments and standing orders,
 * each a single-use consent and one payment order, by the same handlers (`<consents>` and `<orders>` below are
 * `domestic-payment-consents` and `domestic-payments`, `domestic-scheduled-payment-consents` and
 * `domestic-scheduled-payments`, `domestic-standing-order-consents` and `domestic-standing-orders`):
 *   POST /<consents>              client credentials, x-jws-signature, x-idempotency-key → AWAU; what the bank checks
 *                                 beyond the schema (GBP; the schemes; a scheduled payment's RequestedExecutionDateTime
 *                                 in the future; a standing order's FirstPaymentDateTime given and in the future, its
 *                                 other dates after it, NumberOfPayments or FinalPaymentDateTime, not both) is a 400
 *                                 (U023, U027, U003, U002) naming the field
 *   GET  /<consents>/{id}         client credentials: AWAU, AUTH, RJCT, COND (no DELETE in the 4.0 spec)
 *   GET  /domestic-payment-consents/{id}/funds-confirmation   the PSU token of that consent, while AUTH
 *   POST /<orders>                the PSU token of the consent named in Data.ConsentId; Initiation and Risk equal to
 *                                 the consent's (400 U008 naming the first field that differs); the dates checked again
 *                                 (a scheduled date passed since the consent: U003); single use (the consent becomes
 *                                 COND; again: 400 U009)
 *   GET  /<orders>/{id}           client credentials; each read moves the order one step towards its final status:
 *                                 PDNG → ACSP → ACSC (a standing order: PDNG → ACTC, set up), or PDNG → RJCT (AM04) when
 *                                 the debtor account's available balance does not cover an immediate or scheduled amount
 *   GET  /<orders>/{id}/payment-details   the status history
 */
import { randomUUID } from 'node:crypto';
import type { OperationRequest } from '../resource-server.js';
import { findUkobAccount } from './data.js';
import { unsupportedSchemeProblem } from './account-schemes.js';
import { OB_ERROR, obError } from './errors.js';
import { advance, paymentDetailsBody, pendingSince, SETTLED_LIFE, type PaymentProgress, type PaymentStatus } from './payment-progress.js';
import type { PaymentOrderIntent, PaymentOrderKind } from './intents.js';
import { consentResource, idempotentPost, intentHeader, isoNow, json, psuIntent, selfLink, type Handler, type UkobOperationContext } from './operation-context.js';

interface PaymentOrder extends PaymentProgress {
  readonly consentId: string;
  readonly clientId: string;
  readonly creationDateTime: string;
  readonly initiation: Readonly<Record<string, unknown>>;
}

/** The first path at which two JSON values differ (`Data.Initiation.InstructedAmount.Amount`), or undefined. */
export function firstDifference(expected: unknown, actual: unknown, path: string): string | undefined {
  if (typeof expected !== typeof actual || Array.isArray(expected) !== Array.isArray(actual) || (expected === null) !== (actual === null)) return path;
  if (typeof expected !== 'object' || expected === null) return expected === actual ? undefined : path;
  if (Array.isArray(expected)) {
    const other = actual as unknown[];
    if (expected.length !== other.length) return path;
    for (let i = 0; i < expected.length; i++) {
      const found = firstDifference(expected[i], other[i], `${path}[${i}]`);
      if (found) return found;
    }
    return undefined;
  }
  const a = expected as Record<string, unknown>;
  const b = actual as Record<string, unknown>;
  for (const key of new Set([...Object.keys(a), ...Object.keys(b)])) {
    const found = firstDifference(a[key], b[key], `${path}.${key}`);
    if (found) return found;
  }
  return undefined;
}

type Json = Readonly<Record<string, unknown>>;
type Amount = { readonly Amount: string; readonly Currency: string };

/** A payment order type of the PISP API, by the spec's names; its handlers are built from it. */
interface PaymentOrderType {
  readonly kind: PaymentOrderKind;
  /** In messages: `no <what> consent …`. */
  readonly what: string;
  /** The operationIds' stem: `Create<stem>Consents`, `Get<stem>s<idName>`, … */
  readonly stem: string;
  readonly consents: string;
  readonly orders: string;
  /** The order's id: path parameter and `Data` member. */
  readonly idName: string;
  readonly idPrefix: string;
  /** The amounts of its Initiation, by path (each must be GBP). */
  amounts(initiation: Json): ReadonlyArray<readonly [string, Amount]>;
  /** What the bank checks of the Initiation's dates, at the consent and again at the order; a refusal or undefined. */
  dates(initiation: Json, now: number): Response | undefined;
  /** The amount the debtor account must cover when the order is made, in pence (none: not checked then). */
  coveredPence?(initiation: Json): number;
  readonly life: readonly PaymentStatus[];
}

const INITIATION = 'Data.Initiation';

function pence(amount: Amount): number {
  return Math.round(Number(amount.Amount) * 100);
}

/** A date-time that must be in the future: the bank's 400 U003 naming it otherwise. */
function futureDate(value: unknown, path: string, now: number): Response | undefined {
  if (typeof value === 'string' && Date.parse(value) > now) return undefined;
  return obError(400, OB_ERROR.fieldInvalidDate, `${path} must be a date-time in the future (got ${String(value)})`, path);
}

const DOMESTIC_PAYMENT: PaymentOrderType = {
  kind: 'domestic-payment',
  what: 'domestic payment',
  stem: 'DomesticPayment',
  consents: '/domestic-payment-consents',
  orders: '/domestic-payments',
  idName: 'DomesticPaymentId',
  idPrefix: 'dp',
  amounts: (initiation) => [[`${INITIATION}.InstructedAmount`, initiation.InstructedAmount as Amount]],
  dates: () => undefined,
  coveredPence: (initiation) => pence(initiation.InstructedAmount as Amount),
  life: SETTLED_LIFE,
};

const DOMESTIC_SCHEDULED_PAYMENT: PaymentOrderType = {
  ...DOMESTIC_PAYMENT,
  kind: 'domestic-scheduled-payment',
  what: 'domestic scheduled payment',
  stem: 'DomesticScheduledPayment',
  consents: '/domestic-scheduled-payment-consents',
  orders: '/domestic-scheduled-payments',
  idName: 'DomesticScheduledPaymentId',
  idPrefix: 'dsp',
  dates: (initiation, now) => futureDate(initiation.RequestedExecutionDateTime, `${INITIATION}.RequestedExecutionDateTime`, now),
};

const DOMESTIC_STANDING_ORDER: PaymentOrderType = {
  kind: 'domestic-standing-order',
  what: 'domestic standing order',
  stem: 'DomesticStandingOrder',
  consents: '/domestic-standing-order-consents',
  orders: '/domestic-standing-orders',
  idName: 'DomesticStandingOrderId',
  idPrefix: 'dso',
  amounts: (initiation) =>
    (['FirstPaymentAmount', 'RecurringPaymentAmount', 'FinalPaymentAmount'] as const).flatMap((name) => (initiation[name] ? [[`${INITIATION}.${name}`, initiation[name] as Amount] as const] : [])),
  dates(initiation, now) {
    const mandate = `${INITIATION}.MandateRelatedInformation`;
    const { FirstPaymentDateTime: first, RecurringPaymentDateTime: recurring, FinalPaymentDateTime: final, Frequency: frequency } = initiation.MandateRelatedInformation as Record<string, unknown>;
    // A standing order without a start cannot be set up: this bank asks for the first date (optional in the schema).
    if (first === undefined) return obError(400, OB_ERROR.fieldInvalid, `${mandate}.FirstPaymentDateTime is required: the date of the standing order's first payment`, `${mandate}.FirstPaymentDateTime`);
    const notFuture = futureDate(first, `${mandate}.FirstPaymentDateTime`, now);
    if (notFuture) return notFuture;
    for (const [name, value] of [['RecurringPaymentDateTime', recurring], ['FinalPaymentDateTime', final]] as const) {
      if (value !== undefined && !(Date.parse(String(value)) > Date.parse(String(first)))) {
        return obError(400, OB_ERROR.fieldInvalidDate, `${mandate}.${name} must be after FirstPaymentDateTime`, `${mandate}.${name}`);
      }
    }
    if (final !== undefined && initiation.NumberOfPayments !== undefined) {
      return obError(400, OB_ERROR.fieldInvalid, `${INITIATION}.NumberOfPayments and ${mandate}.FinalPaymentDateTime say when the order ends: give one, not both`, `${INITIATION}.NumberOfPayments`);
    }
    const { CountPerPeriod: count, PointInTime: point } = (frequency ?? {}) as { CountPerPeriod?: unknown; PointInTime?: unknown };
    if (count !== undefined && point !== undefined) {
      return obError(400, OB_ERROR.fieldInvalid, `${mandate}.Frequency: CountPerPeriod and PointInTime are not used together`, `${mandate}.Frequency.PointInTime`);
    }
    if (point !== undefined && !/^\d{2}$/.test(String(point))) {
      return obError(400, OB_ERROR.fieldInvalid, `${mandate}.Frequency.PointInTime must be two digits (Exact2NumericText)`, `${mandate}.Frequency.PointInTime`);
    }
    return undefined;
  },
  // Funds are the concern of each payment of the order, not of setting it up.
  life: ['ACTC'],
};

/** Whether the consent's debtor account covers the order's amount now (types that check no amount then: always). */
function fundsAvailable(type: PaymentOrderType, intent: PaymentOrderIntent): boolean {
  if (!type.coveredPence) return true;
  const account = intent.debtorAccountId ? findUkobAccount(intent.debtorAccountId)?.account : undefined;
  return account !== undefined && Math.round(Number(account.available) * 100) >= type.coveredPence(intent.data.Initiation as Json);
}

/** The domestic PISP 4.0 handlers by operationId (orders kept in memory for the bank's life). */
export function paymentInitiationOperations(context: UkobOperationContext): Record<string, Handler> {
  return {
    ...paymentOrderOperations(context, DOMESTIC_PAYMENT),
    ...paymentOrderOperations(context, DOMESTIC_SCHEDULED_PAYMENT),
    ...paymentOrderOperations(context, DOMESTIC_STANDING_ORDER),

    async GetDomesticPaymentConsentsConsentIdFundsConfirmation(request) {
      const intent = await psuIntent(context, request, 'domestic-payment');
      if (intent instanceof Response) return intent;
      if (intent.id !== request.params.ConsentId) return obError(403, OB_ERROR.otherReason, `the access token was issued for consent ${intent.id}`);
      if (intent.status !== 'AUTH') return obError(400, OB_ERROR.invalidConsentStatus, `consent ${intent.id} is ${intent.status}, not AUTH`, 'Status');
      return json(200, {
        Data: { FundsAvailableResult: { FundsAvailableDateTime: isoNow(), FundsAvailable: fundsAvailable(DOMESTIC_PAYMENT, intent) } },
        Links: selfLink(request, `/domestic-payment-consents/${intent.id}/funds-confirmation`),
        Meta: {},
      });
    },
  };
}

/** The consent and order handlers of one payment order type. */
function paymentOrderOperations(context: UkobOperationContext, type: PaymentOrderType): Record<string, Handler> {
  const { intents } = context;
  const orders = new Map<string, PaymentOrder>();
  const consentBody = (request: OperationRequest, intent: PaymentOrderIntent) => ({
    Data: { ...intentHeader(intent), ...intent.data },
    Risk: intent.risk,
    Links: selfLink(request, `${type.consents}/${intent.id}`),
    Meta: {},
  });
  const orderBody = (request: OperationRequest, order: PaymentOrder) => ({
    Data: {
      [type.idName]: order.id,
      ConsentId: order.consentId,
      CreationDateTime: order.creationDateTime,
      Status: order.status,
      StatusUpdateDateTime: order.statusUpdateDateTime,
      ...(order.status === 'RJCT' ? { StatusReason: [{ StatusReasonCode: 'AM04', StatusReasonDescription: 'Insufficient funds' }] } : {}),
      Initiation: order.initiation,
    },
    Links: selfLink(request, `${type.orders}/${order.id}`),
    Meta: {},
  });
  const consent = consentResource(context, type.kind, type.what, consentBody);

  function ownOrder(request: OperationRequest): PaymentOrder | Response {
    const order = orders.get(request.params[type.idName] ?? '');
    if (!order || order.clientId !== request.token.clientId) return obError(400, OB_ERROR.notFound, `no ${type.what} ${request.params[type.idName]}`, type.idName);
    return order;
  }

  return {
    [`Create${type.stem}Consents`]: idempotentPost(context, async (request, body) => {
      const data = body.Data as { Initiation: Json & { DebtorAccount?: { SchemeName: string }; CreditorAccount: { SchemeName: string } } };
      const notGbp = type.amounts(data.Initiation).find(([, amount]) => amount.Currency !== 'GBP');
      if (notGbp) return obError(400, OB_ERROR.unsupportedCurrency, `domestic payments are in GBP (${notGbp[0]}.Currency)`, `${notGbp[0]}.Currency`);
      const refused = unsupportedSchemeProblem(data.Initiation) ?? type.dates(data.Initiation, Date.now());
      if (refused) return refused;
      const intent = intents.createPaymentOrder(type.kind, request.token.clientId, body.Data as Record<string, unknown>, body.Risk as Record<string, unknown>);
      return json(201, consentBody(request, intent));
    }),

    [`Get${type.stem}ConsentsConsentId`]: consent.read,

    [`Create${type.stem}s`]: idempotentPost(context, async (request, body) => {
      const intent = await psuIntent(context, request, type.kind);
      if (intent instanceof Response) return intent;
      const data = body.Data as { ConsentId: string; Initiation: Record<string, unknown> };
      if (data.ConsentId !== intent.id) {
        return obError(400, OB_ERROR.consentMismatch, `Data.ConsentId is not the consent the access token was issued for (${intent.id})`, 'Data.ConsentId');
      }
      if (intent.status !== 'AUTH') {
        const why = intent.status === 'COND' ? `already consumed by a ${type.what}: a payment consent is single use` : `${intent.status}, not AUTH`;
        return obError(400, OB_ERROR.invalidConsentStatus, `consent ${intent.id} is ${why}`, 'Data.ConsentId');
      }
      const differs = firstDifference(intent.data.Initiation, data.Initiation, INITIATION) ?? firstDifference(intent.risk, body.Risk, 'Risk');
      if (differs) return obError(400, OB_ERROR.consentMismatch, `${differs} does not match the consent`, differs);
      // The consent's dates may have passed since it was authorised.
      const late = type.dates(data.Initiation, Date.now());
      if (late) return late;

      const created = isoNow();
      const order: PaymentOrder = {
        id: `${type.idPrefix}-${randomUUID()}`,
        consentId: intent.id,
        clientId: request.token.clientId,
        creationDateTime: created,
        initiation: structuredClone(data.Initiation),
        covered: fundsAvailable(type, intent),
        life: type.life,
        ...pendingSince(created),
      };
      orders.set(order.id, order);
      intents.setStatus(intent, 'COND');
      return json(201, orderBody(request, order));
    }),

    [`Get${type.stem}s${type.idName}`](request) {
      const order = ownOrder(request);
      if (order instanceof Response) return order;
      advance(order, isoNow());
      return json(200, orderBody(request, order));
    },

    [`Get${type.stem}s${type.idName}PaymentDetails`](request) {
      const order = ownOrder(request);
      if (order instanceof Response) return order;
      return json(200, paymentDetailsBody(request, order, `${type.orders}/${order.id}`));
    },
  };
}
