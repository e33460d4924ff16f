/**
 * The UK-OB-like bank's domestic variable recurring payments (VRP 4.0), a long-lived mandate:
 *   POST   /domestic-vrp-consents               client credentials, x-jws-signature, x-idempotency-key → AWAU;
 *                                               ControlParameters in GBP (U023), ValidToDateTime ahead (U003)
 *   GET    /domestic-vrp-consents/{id}          client credentials: AWAU, AUTH, RJCT, EXPD, CANC (+ DebtorAccount once AUTH)
 *   DELETE /domestic-vrp-consents/{id}          client credentials → CANC, the consent's tokens revoked with it
 *   POST   /domestic-vrp-consents/{id}/funds-confirmation   the PSU token of that consent, while AUTH
 *   POST   /domestic-vrps                       the PSU token of the consent in Data.ConsentId (U008), the consent AUTH
 *                                               (U009), Initiation equal to the consent's (U008, Path = the first field
 *                                               that differs), within its ControlParameters (U014, vrp-limits.ts); many
 *                                               payments per consent; idempotent (the same key + another body: U006)
 *   GET    /domestic-vrps/{id}                  client credentials; each read one step: PDNG → ACSP → ACSC, or
 *                                               PDNG → RJCT (AM04) when the debtor account did not cover the amount
 *   GET    /domestic-vrps/{id}/payment-details  the status history
 * PUT and PATCH of a consent are not served (501 U000).
 */
import { randomUUID } from 'node:crypto';
import type { OperationRequest } from '../resource-server.js';
import { findUkobAccount, sortCodeAccountNumber } from './data.js';
import { unsupportedSchemeProblem } from './account-schemes.js';
import { OB_ERROR, obError } from './errors.js';
import { advance, paymentDetailsBody, pendingSince, type PaymentProgress } from './payment-progress.js';
import type { DomesticVrpIntent } from './intents.js';
import { checkedPost, consentResource, idempotentPost, intentHeader, isoNow, json, psuIntent, selfLink, type Handler, type UkobOperationContext } from './operation-context.js';
import { firstDifference } from './payment-initiation.js';
import { checkControlParameters, consentControlProblem, pence, type ControlParameters } from './vrp-limits.js';

interface Account {
  readonly SchemeName: string;
  readonly Identification: string;
  readonly Name?: string;
}

interface DomesticVrp extends PaymentProgress {
  readonly consentId: string;
  readonly clientId: string;
  readonly createdAt: number;
  readonly creationDateTime: string;
  readonly initiation: Readonly<Record<string, unknown>>;
  readonly instruction: Readonly<Record<string, unknown>>;
  readonly risk: Readonly<Record<string, unknown>>;
  /** Pence. */
  readonly amount: number;
}

/** The consent's DebtorAccount as the ASPSP reports it once the PSU chose it. */
function debtorAccountOf(intent: DomesticVrpIntent): Account | undefined {
  const found = intent.debtorAccountId ? findUkobAccount(intent.debtorAccountId) : undefined;
  return found && { SchemeName: 'UK.OBIE.SortCodeAccountNumber', Identification: sortCodeAccountNumber(found.account), Name: found.account.name };
}

function consentBody(request: OperationRequest, intent: DomesticVrpIntent) {
  const debtor = debtorAccountOf(intent);
  return {
    Data: {
      ...intentHeader(intent),
      ...intent.data,
      ...(debtor ? { DebtorAccount: debtor } : {}),
    },
    Risk: intent.risk,
    Links: selfLink(request, `/domestic-vrp-consents/${intent.id}`),
    Meta: {},
  };
}

function paymentBody(request: OperationRequest, payment: DomesticVrp, intent: DomesticVrpIntent | undefined) {
  const debtor = intent && debtorAccountOf(intent);
  return {
    Data: {
      DomesticVRPId: payment.id,
      ConsentId: payment.consentId,
      CreationDateTime: payment.creationDateTime,
      Status: payment.status,
      StatusUpdateDateTime: payment.statusUpdateDateTime,
      ...(payment.status === 'RJCT' ? { StatusReason: [{ StatusReasonCode: 'AM04', StatusReasonDescription: 'Insufficient funds' }] } : {}),
      Initiation: payment.initiation,
      Instruction: payment.instruction,
      ...(debtor ? { DebtorAccount: debtor } : {}),
    },
    Risk: payment.risk,
    Links: selfLink(request, `/domestic-vrps/${payment.id}`),
    Meta: {},
  };
}

/** Whether the consent's debtor account covers the amount now. */
function fundsAvailable(intent: DomesticVrpIntent, amount: number): boolean {
  const account = intent.debtorAccountId ? findUkobAccount(intent.debtorAccountId)?.account : undefined;
  return account !== undefined && pence(account.available) >= amount;
}

/** The VRP 4.0 handlers by operationId (payments kept in memory for the bank's life). */
export function variableRecurringPaymentOperations(context: UkobOperationContext): Record<string, Handler> {
  const { intents } = context;
  const payments = new Map<string, DomesticVrp>();

  const consentHandlers = consentResource(context, 'domestic-vrp', 'domestic VRP', consentBody);

  function ownPayment(request: OperationRequest): DomesticVrp | Response {
    const payment = payments.get(request.params.DomesticVRPId ?? '');
    if (!payment || payment.clientId !== request.token.clientId) return obError(400, OB_ERROR.notFound, `no domestic VRP ${request.params.DomesticVRPId}`, 'DomesticVRPId');
    return payment;
  }

  /** The consent a PSU-token call acts for, authorised and named by the body (and the path, when it has one). */
  async function authorisedConsent(request: OperationRequest, bodyConsentId: string): Promise<DomesticVrpIntent | Response> {
    const intent = await psuIntent(context, request, 'domestic-vrp');
    if (intent instanceof Response) return intent;
    if (request.params.ConsentId !== undefined && request.params.ConsentId !== intent.id) return obError(403, OB_ERROR.otherReason, `the access token was issued for consent ${intent.id}`);
    if (bodyConsentId !== intent.id) return obError(400, OB_ERROR.consentMismatch, `Data.ConsentId is not the consent the access token was issued for (${intent.id})`, 'Data.ConsentId');
    if (intent.status !== 'AUTH') return obError(400, OB_ERROR.invalidConsentStatus, `consent ${intent.id} is ${intent.status}, not AUTH`, 'Data.ConsentId');
    return intent;
  }

  return {
    domesticVrpConsentsPost: idempotentPost(context, async (request, body) => {
      const data = body.Data as { ControlParameters: ControlParameters; Initiation: { DebtorAccount?: Account; CreditorAccount?: Account } };
      const problem = consentControlProblem(data.ControlParameters, Date.now());
      if (problem) {
        const code = problem.code === 'currency' ? OB_ERROR.unsupportedCurrency : problem.code === 'date' ? OB_ERROR.fieldInvalidDate : OB_ERROR.fieldInvalid;
        return obError(400, code, problem.message, problem.path);
      }
      const scheme = unsupportedSchemeProblem(data.Initiation);
      if (scheme) return scheme;
      const intent = intents.createDomesticVrp(request.token.clientId, body.Data as Record<string, unknown>, body.Risk as Record<string, unknown>);
      return json(201, consentBody(request, intent));
    }),

    domesticVrpConsentsGet: consentHandlers.read,
    domesticVrpConsentsDelete: consentHandlers.revoke,

    domesticVrpConsentsFundsConfirmation: checkedPost(context, async (request, body) => {
      const data = body.Data as { ConsentId: string; Reference?: string; InstructedAmount: { Amount: string; Currency: string } };
      const intent = await authorisedConsent(request, data.ConsentId);
      if (intent instanceof Response) return intent;
      const available = data.InstructedAmount.Currency === 'GBP' && fundsAvailable(intent, pence(data.InstructedAmount.Amount));
      const id = `vfc-${randomUUID()}`;
      return json(201, {
        Data: {
          FundsConfirmationId: id,
          ConsentId: intent.id,
          CreationDateTime: isoNow(),
          ...(data.Reference !== undefined ? { Reference: data.Reference } : {}),
          FundsAvailableResult: { FundsAvailableDateTime: isoNow(), FundsAvailable: available ? 'Available' : 'NotAvailable' },
          InstructedAmount: data.InstructedAmount,
        },
        Links: selfLink(request, `/domestic-vrp-consents/${intent.id}/funds-confirmation`),
        Meta: {},
      });
    }),

    domesticVrpPost: idempotentPost(context, async (request, body) => {
      const data = body.Data as {
        ConsentId: string;
        PSUAuthenticationMethod: string;
        PSUInteractionType?: string;
        VRPType: string;
        Initiation: Record<string, unknown>;
        Instruction: { InstructedAmount: { Amount: string; Currency: string }; CreditorAccount: Account };
      };
      const intent = await authorisedConsent(request, data.ConsentId);
      if (intent instanceof Response) return intent;
      const differs = firstDifference(intent.data.Initiation ?? {}, data.Initiation, 'Data.Initiation');
      if (differs) return obError(400, OB_ERROR.consentMismatch, `${differs} does not match the consent`, differs);
      // A creditor fixed by the consent is the only one the instruction may pay.
      const creditor = (intent.data.Initiation as { CreditorAccount?: Account } | undefined)?.CreditorAccount;
      const creditorDiffers = creditor && firstDifference(creditor, data.Instruction.CreditorAccount, 'Data.Instruction.CreditorAccount');
      if (creditorDiffers) return obError(400, OB_ERROR.consentMismatch, `${creditorDiffers} is not the consent's CreditorAccount`, creditorDiffers);
      const scheme = unsupportedSchemeProblem({ CreditorAccount: data.Instruction.CreditorAccount }, 'Data.Instruction');
      if (scheme) return scheme;

      const now = Date.now();
      const amount = pence(data.Instruction.InstructedAmount.Amount);
      const control = intent.data.ControlParameters as ControlParameters;
      const consentStart = Date.parse(control.ValidFromDateTime ?? intent.creationDateTime);
      // Rejected payments (not covered) moved no money: they do not use up a period's limit.
      const earlier = [...payments.values()].filter((p) => p.consentId === intent.id && p.covered).map((p) => ({ at: p.createdAt, amount: p.amount }));
      const verdict = checkControlParameters(
        control,
        consentStart,
        {
          vrpType: data.VRPType,
          psuAuthenticationMethod: data.PSUAuthenticationMethod,
          ...(data.PSUInteractionType !== undefined ? { psuInteractionType: data.PSUInteractionType } : {}),
          currency: data.Instruction.InstructedAmount.Currency,
          amount,
          at: now,
        },
        earlier,
      );
      if (!verdict.ok) return obError(400, OB_ERROR.failsControlParameters, verdict.message, verdict.path);

      const created = isoNow();
      const payment: DomesticVrp = {
        id: `dv-${randomUUID()}`,
        consentId: intent.id,
        clientId: request.token.clientId,
        createdAt: now,
        creationDateTime: created,
        initiation: structuredClone(data.Initiation),
        instruction: structuredClone(data.Instruction) as Record<string, unknown>,
        risk: structuredClone(body.Risk as Record<string, unknown>),
        amount,
        covered: fundsAvailable(intent, amount),
        ...pendingSince(created),
      };
      payments.set(payment.id, payment);
      return json(201, paymentBody(request, payment, intent));
    }),

    domesticVrpGet(request) {
      const payment = ownPayment(request);
      if (payment instanceof Response) return payment;
      advance(payment, isoNow());
      return json(200, paymentBody(request, payment, intents.ofClient(payment.consentId, payment.clientId, 'domestic-vrp')));
    },

    domesticVrpPaymentDetailsGet(request) {
      const payment = ownPayment(request);
      if (payment instanceof Response) return payment;
      return json(200, paymentDetailsBody(request, payment, `/domestic-vrps/${payment.id}`));
    },
  };
}
