/**
 * The UK-OB-like bank's domestic payments (PISP 4.0):
 *   POST /domestic-payment-consents            client credentials, x-jws-signature, x-idempotency-key → AWAU
 *   GET  /domestic-payment-consents/{id}       client credentials: AWAU, AUTH, RJCT, COND
 *   GET  /domestic-payment-consents/{id}/funds-confirmation   the PSU token of that consent, while AUTH
 *   POST /domestic-payments                    the PSU token of the consent named in Data.ConsentId; Initiation and Risk
 *                                              equal to the consent's (400 U008 naming the first field that differs);
 *                                              single use (the consent becomes COND; again: 400 U009)
 *   GET  /domestic-payments/{id}               client credentials; each read moves the payment one step towards
 *                                              its final status: PDNG → ACSP → ACSC, or PDNG → RJCT (AM04) when the
 *                                              debtor account's available balance does not cover the amount
 *   GET  /domestic-payments/{id}/payment-details   the status history
 */
import { randomUUID } from 'node:crypto';
import type { OperationRequest } from '../resource-server.js';
import { findUkobAccount } from './data.js';
import { unsupportedSchemeProblem } from './account-schemes.js';
import { OB_ERROR, obError } from './errors.js';
import { advance, paymentDetailsBody, pendingSince, type PaymentProgress } from './payment-progress.js';
import type { DomesticPaymentIntent } from './intents.js';
import { idempotentPost, intentHeader, isoNow, json, psuIntent, selfLink, type Handler, type UkobOperationContext } from './operation-context.js';

interface DomesticPayment extends PaymentProgress {
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

function consentBody(request: OperationRequest, intent: DomesticPaymentIntent) {
  return {
    Data: {
      ...intentHeader(intent),
      ...intent.data,
    },
    Risk: intent.risk,
    Links: selfLink(request, `/domestic-payment-consents/${intent.id}`),
    Meta: {},
  };
}

function paymentBody(request: OperationRequest, payment: DomesticPayment) {
  return {
    Data: {
      DomesticPaymentId: payment.id,
      ConsentId: payment.consentId,
      CreationDateTime: payment.creationDateTime,
      Status: payment.status,
      StatusUpdateDateTime: payment.statusUpdateDateTime,
      ...(payment.status === 'RJCT' ? { StatusReason: [{ StatusReasonCode: 'AM04', StatusReasonDescription: 'Insufficient funds' }] } : {}),
      Initiation: payment.initiation,
    },
    Links: selfLink(request, `/domestic-payments/${payment.id}`),
    Meta: {},
  };
}

function instructedPence(initiation: Readonly<Record<string, unknown>>): number {
  return Math.round(Number((initiation.InstructedAmount as { Amount: string }).Amount) * 100);
}

/** Whether the consent's debtor account covers the amount now. */
function fundsAvailable(intent: DomesticPaymentIntent): boolean {
  const account = intent.debtorAccountId ? findUkobAccount(intent.debtorAccountId)?.account : undefined;
  return account !== undefined && Math.round(Number(account.available) * 100) >= instructedPence(intent.data.Initiation as Record<string, unknown>);
}

/** The domestic PISP 4.0 handlers by operationId (payments kept in memory for the bank's life). */
export function paymentInitiationOperations(context: UkobOperationContext): Record<string, Handler> {
  const { intents } = context;
  const payments = new Map<string, DomesticPayment>();

  function ownPayment(request: OperationRequest): DomesticPayment | Response {
    const payment = payments.get(request.params.DomesticPaymentId ?? '');
    if (!payment || payment.clientId !== request.token.clientId) {
      return obError(400, OB_ERROR.notFound, `no domestic payment ${request.params.DomesticPaymentId}`, 'DomesticPaymentId');
    }
    return payment;
  }

  return {
    CreateDomesticPaymentConsents: idempotentPost(context, async (request, body) => {
      const data = body.Data as { Initiation: { InstructedAmount: { Currency: string }; DebtorAccount?: { SchemeName: string }; CreditorAccount: { SchemeName: string } } };
      if (data.Initiation.InstructedAmount.Currency !== 'GBP') {
        return obError(400, OB_ERROR.unsupportedCurrency, 'domestic payments are in GBP', 'Data.Initiation.InstructedAmount.Currency');
      }
      const scheme = unsupportedSchemeProblem(data.Initiation);
      if (scheme) return scheme;
      const intent = intents.createDomesticPayment(request.token.clientId, body.Data as Record<string, unknown>, body.Risk as Record<string, unknown>);
      return json(201, consentBody(request, intent));
    }),

    GetDomesticPaymentConsentsConsentId(request) {
      const intent = intents.ofClient(request.params.ConsentId ?? '', request.token.clientId, 'domestic-payment');
      if (!intent) return obError(400, OB_ERROR.notFound, `no domestic payment consent ${request.params.ConsentId}`, 'ConsentId');
      return json(200, consentBody(request, intent));
    },

    async GetDomesticPaymentConsentsConsentIdFundsConfirmation(request) {
      const intent = await psuIntent(context, request, 'domestic-payment');
      if (intent instanceof Response) return intent;
      if (intent.id !== request.params.ConsentId) return obError(403, OB_ERROR.otherReason, `the access token was issued for consent ${intent.id}`);
      if (intent.status !== 'AUTH') return obError(400, OB_ERROR.invalidConsentStatus, `consent ${intent.id} is ${intent.status}, not AUTH`, 'Status');
      return json(200, {
        Data: { FundsAvailableResult: { FundsAvailableDateTime: isoNow(), FundsAvailable: fundsAvailable(intent) } },
        Links: selfLink(request, `/domestic-payment-consents/${intent.id}/funds-confirmation`),
        Meta: {},
      });
    },

    CreateDomesticPayments: idempotentPost(context, async (request, body) => {
      const intent = await psuIntent(context, request, 'domestic-payment');
      if (intent instanceof Response) return intent;
      const data = body.Data as { ConsentId: string; Initiation: Record<string, unknown> };
      if (data.ConsentId !== intent.id) {
        return obError(400, OB_ERROR.consentMismatch, `Data.ConsentId is not the consent the access token was issued for (${intent.id})`, 'Data.ConsentId');
      }
      if (intent.status !== 'AUTH') {
        const why = intent.status === 'COND' ? 'already consumed by a payment: a payment consent is single use' : `${intent.status}, not AUTH`;
        return obError(400, OB_ERROR.invalidConsentStatus, `consent ${intent.id} is ${why}`, 'Data.ConsentId');
      }
      const differs = firstDifference(intent.data.Initiation, data.Initiation, 'Data.Initiation') ?? firstDifference(intent.risk, body.Risk, 'Risk');
      if (differs) return obError(400, OB_ERROR.consentMismatch, `${differs} does not match the consent`, differs);

      const created = isoNow();
      const payment: DomesticPayment = {
        id: `dp-${randomUUID()}`,
        consentId: intent.id,
        clientId: request.token.clientId,
        creationDateTime: created,
        initiation: structuredClone(data.Initiation),
        covered: fundsAvailable(intent),
        ...pendingSince(created),
      };
      payments.set(payment.id, payment);
      intents.setStatus(intent, 'COND');
      return json(201, paymentBody(request, payment));
    }),

    GetDomesticPaymentsDomesticPaymentId(request) {
      const payment = ownPayment(request);
      if (payment instanceof Response) return payment;
      advance(payment, isoNow());
      return json(200, paymentBody(request, payment));
    },

    GetDomesticPaymentsDomesticPaymentIdPaymentDetails(request) {
      const payment = ownPayment(request);
      if (payment instanceof Response) return payment;
      return json(200, paymentDetailsBody(request, payment, `/domestic-payments/${payment.id}`));
    },
  };
}
