/**
 * The UK-OB-like bank's payment orders (PISP 4.0), domestic and international: immediate payments, scheduled payments
 * and standing orders, each a single-use consent and one payment order, by the same handlers (`<consents>` and
 * `<orders>` below are `domestic-payment-consents` and `domestic-payments`, `domestic-scheduled-payment-consents` and
 * `domestic-scheduled-payments`, `domestic-standing-order-consents` and `domestic-standing-orders`, and the same three
 * with `international-`):
 *   POST /<consents>              client credentials, x-jws-signature, x-idempotency-key → AWAU; what the bank checks
 *                                 beyond the schema (domestic: GBP; international: the currencies and the exchange rate,
 *                                 exchange-rates.ts; the schemes; a scheduled payment's RequestedExecutionDateTime in
 *                                 the future; a standing order's FirstPaymentDateTime given and in the future, its other
 *                                 dates after it, NumberOfPayments or FinalPaymentDateTime, not both) is a 400 (U023,
 *                                 U027, U003, U002) naming the field; an international payment's consent answers the
 *                                 `ExchangeRateInformation` the bank applies
 *   GET  /<consents>/{id}         client credentials: AWAU, AUTH, RJCT, COND (no DELETE in the 4.0 spec)
 *   GET  /<consents>/{id}/funds-confirmation   (domestic and international payments, international scheduled
 *                                 payments) the PSU token of that consent, while AUTH; the amount in GBP at the
 *                                 consent's rate
 *   POST /<orders>                the PSU token of the consent named in Data.ConsentId; Initiation and Risk equal to
 *                                 the consent's (400 U008 naming the first field that differs); the dates and an Agreed
 *                                 rate's contract checked again (a scheduled date passed since the consent: U003);
 *                                 single use (the consent becomes COND; again: 400 U009); the order carries the
 *                                 consent's ExchangeRateInformation
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
import { exchangeTerms, gbpPence, type Amount, type ExchangeRateTerms, type FxDesk } from './exchange-rates.js';
import type { PaymentOrderIntent, PaymentOrderKind } from './intents.js';
import { consentResource, idempotentPost, intentHeader, isoNow, json, psuIntent, selfLink, type Handler, type UkobOperationContext } from './operation-context.js';

interface PaymentOrder extends PaymentProgress {
  readonly consentId: string;
  readonly clientId: string;
  readonly creationDateTime: string;
  readonly initiation: Readonly<Record<string, unknown>>;
  /** The consent's `terms` (its exchange rate), carried by the order. */
  readonly terms: Readonly<Record<string, unknown>>;
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

/** A payment order type of the PISP API, by the spec's names; its handlers are built from it. */
interface PaymentOrderType {
  readonly kind: PaymentOrderKind;
  /** In messages: `no <what> consent …`. */
  readonly what: string;
  /** The operationIds' stem: `Create<stem>Consents`, `Get<stem>s<idName>`, … */
  readonly stem: string;
  readonly consents: string;
  readonly orders: string;
  /** The order's id: its `Data` member, and its path parameter unless `idParam` says otherwise. */
  readonly idName: string;
  readonly idParam?: string;
  readonly idPrefix: string;
  /**
   * What the bank checks of the Initiation's currencies, at the consent and again at the order: a refusal, or the
   * members it adds to the consent's `Data` (an international payment's exchange rate; domestic: none).
   */
  terms(initiation: Json, now: number, fx: FxDesk): Response | Json;
  /** What the bank checks of the Initiation's dates, at the consent and again at the order; a refusal or undefined. */
  dates(initiation: Json, now: number): Response | undefined;
  /** The amount the debtor account must cover when the order is made, in pence of GBP (none: not checked then). */
  coveredPence?(initiation: Json, terms: Json): number;
  /** Whether its consent has a funds-confirmation (`Get<stem>ConsentsConsentIdFundsConfirmation`). */
  readonly fundsConfirmation: boolean;
  readonly life: readonly PaymentStatus[];
}

const INITIATION = 'Data.Initiation';

/** Domestic: every amount of the Initiation (by its name) in GBP, else the bank's 400 U023 naming it. */
function gbpOnly(...names: readonly string[]): PaymentOrderType['terms'] {
  return (initiation) => {
    const notGbp = names.find((name) => initiation[name] !== undefined && (initiation[name] as Amount).Currency !== 'GBP');
    return notGbp ? obError(400, OB_ERROR.unsupportedCurrency, `domestic payments are in GBP (${INITIATION}.${notGbp}.Currency)`, `${INITIATION}.${notGbp}.Currency`) : {};
  };
}

/** The InstructedAmount in pence of GBP, at the consent's exchange rate when it is in another currency. */
function instructedPence(initiation: Json, terms: Json): number {
  return gbpPence(initiation.InstructedAmount as Amount, terms.ExchangeRateInformation as ExchangeRateTerms | undefined);
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
  terms: gbpOnly('InstructedAmount'),
  dates: () => undefined,
  coveredPence: instructedPence,
  fundsConfirmation: true,
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
  fundsConfirmation: false,
};

const DOMESTIC_STANDING_ORDER: PaymentOrderType = {
  kind: 'domestic-standing-order',
  what: 'domestic standing order',
  stem: 'DomesticStandingOrder',
  consents: '/domestic-standing-order-consents',
  orders: '/domestic-standing-orders',
  idName: 'DomesticStandingOrderId',
  idPrefix: 'dso',
  terms: gbpOnly('FirstPaymentAmount', 'RecurringPaymentAmount', 'FinalPaymentAmount'),
  dates: standingOrderDates,
  fundsConfirmation: false,
  // Funds are the concern of each payment of the order, not of setting it up.
  life: ['ACTC'],
};

const INTERNATIONAL_PAYMENT: PaymentOrderType = {
  ...DOMESTIC_PAYMENT,
  kind: 'international-payment',
  what: 'international payment',
  stem: 'InternationalPayment',
  consents: '/international-payment-consents',
  orders: '/international-payments',
  idName: 'InternationalPaymentId',
  idPrefix: 'ip',
  terms: (initiation, now, fx) => exchangeTerms(initiation, now, fx, true),
};

const INTERNATIONAL_SCHEDULED_PAYMENT: PaymentOrderType = {
  ...INTERNATIONAL_PAYMENT,
  kind: 'international-scheduled-payment',
  what: 'international scheduled payment',
  stem: 'InternationalScheduledPayment',
  consents: '/international-scheduled-payment-consents',
  orders: '/international-scheduled-payments',
  idName: 'InternationalScheduledPaymentId',
  idPrefix: 'isp',
  dates: DOMESTIC_SCHEDULED_PAYMENT.dates,
};

const INTERNATIONAL_STANDING_ORDER: PaymentOrderType = {
  ...DOMESTIC_STANDING_ORDER,
  kind: 'international-standing-order',
  what: 'international standing order',
  stem: 'InternationalStandingOrder',
  consents: '/international-standing-order-consents',
  orders: '/international-standing-orders',
  // The spec names the order `InternationalStandingOrderId` in its body and `InternationalStandingOrderPaymentId` in its paths.
  idName: 'InternationalStandingOrderId',
  idParam: 'InternationalStandingOrderPaymentId',
  idPrefix: 'iso',
  // Its Initiation has no ExchangeRateInformation: the rate is each payment's.
  terms: (initiation, now, fx) => exchangeTerms(initiation, now, fx, false),
};

/** A standing order's schedule (`MandateRelatedInformation`, domestic and international alike). */
function standingOrderDates(initiation: Json, now: number): Response | undefined {
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
}

/** Whether the consent's debtor account covers the order's amount now (types that check no amount then: always). */
function fundsAvailable(type: PaymentOrderType, intent: PaymentOrderIntent): boolean {
  if (!type.coveredPence) return true;
  const account = intent.debtorAccountId ? findUkobAccount(intent.debtorAccountId)?.account : undefined;
  return account !== undefined && Math.round(Number(account.available) * 100) >= type.coveredPence(intent.data.Initiation as Json, intent.terms ?? {});
}

/** The PISP 4.0 payment order handlers by operationId, domestic and international (orders kept in memory for the bank's life). */
export function paymentInitiationOperations(context: UkobOperationContext): Record<string, Handler> {
  return Object.assign(
    {},
    ...[DOMESTIC_PAYMENT, DOMESTIC_SCHEDULED_PAYMENT, DOMESTIC_STANDING_ORDER, INTERNATIONAL_PAYMENT, INTERNATIONAL_SCHEDULED_PAYMENT, INTERNATIONAL_STANDING_ORDER].map((type) =>
      paymentOrderOperations(context, type),
    ),
  ) as Record<string, Handler>;
}

/** The consent and order handlers of one payment order type. */
function paymentOrderOperations(context: UkobOperationContext, type: PaymentOrderType): Record<string, Handler> {
  const { intents } = context;
  const orders = new Map<string, PaymentOrder>();
  const idParam = type.idParam ?? type.idName;
  const consentBody = (request: OperationRequest, intent: PaymentOrderIntent) => ({
    Data: { ...intentHeader(intent), ...intent.data, ...intent.terms },
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
      ...order.terms,
      Initiation: order.initiation,
    },
    Links: selfLink(request, `${type.orders}/${order.id}`),
    Meta: {},
  });
  const consent = consentResource(context, type.kind, type.what, consentBody);

  function ownOrder(request: OperationRequest): PaymentOrder | Response {
    const order = orders.get(request.params[idParam] ?? '');
    if (!order || order.clientId !== request.token.clientId) return obError(400, OB_ERROR.notFound, `no ${type.what} ${request.params[idParam]}`, idParam);
    return order;
  }

  return {
    [`Create${type.stem}Consents`]: idempotentPost(context, async (request, body) => {
      const data = body.Data as { Initiation: Json & { DebtorAccount?: { SchemeName: string }; CreditorAccount: { SchemeName: string } } };
      const terms = type.terms(data.Initiation, Date.now(), context.fx);
      if (terms instanceof Response) return terms;
      const refused = unsupportedSchemeProblem(data.Initiation) ?? type.dates(data.Initiation, Date.now());
      if (refused) return refused;
      const intent = intents.createPaymentOrder(type.kind, request.token.clientId, body.Data as Record<string, unknown>, body.Risk as Record<string, unknown>, Object.keys(terms).length > 0 ? terms : undefined);
      return json(201, consentBody(request, intent));
    }),

    [`Get${type.stem}ConsentsConsentId`]: consent.read,

    ...(type.fundsConfirmation
      ? {
          async [`Get${type.stem}ConsentsConsentIdFundsConfirmation`](request: OperationRequest) {
            const intent = await psuIntent(context, request, type.kind);
            if (intent instanceof Response) return intent;
            if (intent.id !== request.params.ConsentId) return obError(403, OB_ERROR.otherReason, `the access token was issued for consent ${intent.id}`);
            if (intent.status !== 'AUTH') return obError(400, OB_ERROR.invalidConsentStatus, `consent ${intent.id} is ${intent.status}, not AUTH`, 'Status');
            return json(200, {
              Data: { FundsAvailableResult: { FundsAvailableDateTime: isoNow(), FundsAvailable: fundsAvailable(type, intent) } },
              Links: selfLink(request, `${type.consents}/${intent.id}/funds-confirmation`),
              Meta: {},
            });
          },
        }
      : {}),

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
      // The consent's dates, or its agreed rate's contract, may have passed since it was authorised.
      const terms = type.terms(data.Initiation, Date.now(), context.fx);
      const late = terms instanceof Response ? terms : type.dates(data.Initiation, Date.now());
      if (late) return late;

      const created = isoNow();
      const order: PaymentOrder = {
        id: `${type.idPrefix}-${randomUUID()}`,
        consentId: intent.id,
        clientId: request.token.clientId,
        creationDateTime: created,
        initiation: structuredClone(data.Initiation),
        terms: intent.terms ?? {},
        covered: fundsAvailable(type, intent),
        life: type.life,
        ...pendingSince(created),
      };
      orders.set(order.id, order);
      intents.setStatus(intent, 'COND');
      return json(201, orderBody(request, order));
    }),

    [`Get${type.stem}s${idParam}`](request) {
      const order = ownOrder(request);
      if (order instanceof Response) return order;
      advance(order, isoNow());
      return json(200, orderBody(request, order));
    },

    [`Get${type.stem}s${idParam}PaymentDetails`](request) {
      const order = ownOrder(request);
      if (order instanceof Response) return order;
      return json(200, paymentDetailsBody(request, order, `${type.orders}/${order.id}`));
    },
  };
}
