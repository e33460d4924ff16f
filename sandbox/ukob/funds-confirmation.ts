/**
 * The UK-OB-like bank's confirmation of funds (CBPII 4.0):
 *   POST   /funds-confirmation-consents        client credentials → AWAU (the DebtorAccount must be a sort code and
 *                                              account number of this bank: only its PSU can authorise it)
 *   GET    /funds-confirmation-consents/{id}   client credentials: AWAU, AUTH, RJCT, EXPD, CANC
 *   DELETE /funds-confirmation-consents/{id}   client credentials → CANC, the consent's tokens revoked
 *   POST   /funds-confirmations                the PSU token of the consent named in Data.ConsentId, while AUTH:
 *                                              whether the account's available balance covers InstructedAmount
 */
import { randomUUID } from 'node:crypto';
import type { OperationRequest } from '../resource-server.js';
import { findUkobAccount } from './data.js';
import { OB_ERROR, obError } from './errors.js';
import type { FundsConfirmationIntent } from './intents.js';
import { checkedPost, consentResource, intentHeader, isoNow, json, psuIntent, selfLink, type Handler, type UkobOperationContext } from './operation-context.js';

function consentBody(request: OperationRequest, intent: FundsConfirmationIntent) {
  return {
    Data: {
      ...intentHeader(intent),
      ...(intent.expirationDateTime ? { ExpirationDateTime: intent.expirationDateTime } : {}),
      DebtorAccount: intent.debtorAccount,
    },
    Links: selfLink(request, `/funds-confirmation-consents/${intent.id}`),
    Meta: {},
  };
}

/** The CBPII 4.0 handlers by operationId. */
export function fundsConfirmationOperations(context: UkobOperationContext): Record<string, Handler> {
  const { intents } = context;

  const consentHandlers = consentResource(context, 'funds-confirmation', 'funds confirmation', consentBody);

  return {
    CreateFundsConfirmationConsents: checkedPost(context, async (request, body) => {
      const data = body.Data as { DebtorAccount: FundsConfirmationIntent['debtorAccount']; ExpirationDateTime?: string };
      if (data.DebtorAccount.SchemeName !== 'UK.OBIE.SortCodeAccountNumber') {
        return obError(400, OB_ERROR.unsupportedScheme, `${data.DebtorAccount.SchemeName} is not supported (UK.OBIE.SortCodeAccountNumber)`, 'Data.DebtorAccount.SchemeName');
      }
      if (data.ExpirationDateTime && Date.parse(data.ExpirationDateTime) <= Date.now()) {
        return obError(400, OB_ERROR.fieldInvalidDate, 'ExpirationDateTime must be in the future', 'Data.ExpirationDateTime');
      }
      const intent = intents.createFundsConfirmation(request.token.clientId, {
        debtorAccount: data.DebtorAccount,
        ...(data.ExpirationDateTime ? { expirationDateTime: data.ExpirationDateTime } : {}),
      });
      return json(201, consentBody(request, intent));
    }),

    GetFundsConfirmationConsentsConsentId: consentHandlers.read,
    DeleteFundsConfirmationConsentsConsentId: consentHandlers.revoke,

    CreateFundsConfirmations: checkedPost(context, async (request, body) => {
      const intent = await psuIntent(context, request, 'funds-confirmation');
      if (intent instanceof Response) return intent;
      const data = body.Data as { ConsentId: string; Reference: string; InstructedAmount: { Amount: string; Currency: string } };
      if (data.ConsentId !== intent.id) {
        return obError(400, OB_ERROR.consentMismatch, `Data.ConsentId is not the consent the access token was issued for (${intent.id})`, 'Data.ConsentId');
      }
      if (intent.status !== 'AUTH') return obError(403, OB_ERROR.reauthenticate, `consent ${intent.id} is ${intent.status}: the PSU must authorise a new consent`);
      const account = findUkobAccount(intent.debtorAccountId ?? '')?.account;
      const available = account !== undefined && data.InstructedAmount.Currency === account.currency && Math.round(Number(account.available) * 100) >= Math.round(Number(data.InstructedAmount.Amount) * 100);
      const id = `fc-${randomUUID().slice(0, 32)}`;
      return json(201, {
        Data: { FundsConfirmationId: id, ConsentId: intent.id, CreationDateTime: isoNow(), FundsAvailable: available, Reference: data.Reference, InstructedAmount: data.InstructedAmount },
        Links: selfLink(request, `/funds-confirmations/${id}`),
        Meta: {},
      });
    }),
  };
}
