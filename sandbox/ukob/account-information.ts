/**
 * The UK-OB-like bank's account information (AISP 4.0): account-access consents with the TPP's client-credentials
 * token, and the account data with a PSU token, limited to what its consent allows:
 *   - the consent must be AUTH (an expired one is EXPD: 403 `U028`, the PSU must authorise a new one; a deleted one
 *     revoked the token: 401);
 *   - only the accounts the PSU selected (another AccountId: 403);
 *   - only the data clusters of its `Permissions` (403), Basic vs Detail shaping the answer;
 *   - transactions within `TransactionFromDateTime`/`TransactionToDateTime`, credits and/or debits as permitted.
 */
import type { OperationRequest } from '../resource-server.js';
import { findUkobAccount, findUkobPsu, sortCodeAccountNumber, type UkobAccount, type UkobTransaction } from './data.js';
import { OB_ERROR, obError } from './errors.js';
import type { AccountAccessIntent } from './intents.js';
import { checkedPost, consentResource, intentHeader, isoNow, json, psuIntent, selfLink, type Handler, type UkobOperationContext } from './operation-context.js';

const TRANSACTION_DETAIL = ['ReadTransactionsBasic', 'ReadTransactionsDetail'];
const TRANSACTION_DIRECTION = ['ReadTransactionsCredits', 'ReadTransactionsDebits'];

function consentBody(request: OperationRequest, intent: AccountAccessIntent) {
  return {
    Data: {
      ...intentHeader(intent),
      Permissions: intent.permissions,
      ...(intent.expirationDateTime ? { ExpirationDateTime: intent.expirationDateTime } : {}),
      ...(intent.transactionFromDateTime ? { TransactionFromDateTime: intent.transactionFromDateTime } : {}),
      ...(intent.transactionToDateTime ? { TransactionToDateTime: intent.transactionToDateTime } : {}),
    },
    Risk: {},
    Links: selfLink(request, `/account-access-consents/${intent.id}`),
    Meta: {},
  };
}

/** Why a permission set cannot be granted (the profile's combinations), or undefined. */
function permissionProblem(permissions: readonly string[]): string | undefined {
  const has = (list: readonly string[]) => list.some((p) => permissions.includes(p));
  if (has(TRANSACTION_DETAIL) && !has(TRANSACTION_DIRECTION)) return 'ReadTransactionsBasic/Detail needs ReadTransactionsCredits and/or ReadTransactionsDebits';
  if (has(TRANSACTION_DIRECTION) && !has(TRANSACTION_DETAIL)) return 'ReadTransactionsCredits/Debits needs ReadTransactionsBasic or ReadTransactionsDetail';
  return undefined;
}

function amount(signed: string) {
  return { Amount: signed.replace(/^-/, ''), Currency: 'GBP' };
}

function direction(signed: string): 'Credit' | 'Debit' {
  return signed.startsWith('-') ? 'Debit' : 'Credit';
}

function accountBody(account: UkobAccount, detail: boolean) {
  return {
    AccountId: account.accountId,
    Status: 'Enabled',
    StatusUpdateDateTime: '2020-01-06T09:00:00+00:00',
    Currency: account.currency,
    AccountCategory: account.category,
    AccountTypeCode: account.typeCode,
    Nickname: account.nickname,
    ...(detail ? { Account: [{ SchemeName: 'UK.OBIE.SortCodeAccountNumber', Identification: sortCodeAccountNumber(account), Name: account.name }] } : {}),
  };
}

function balances(account: UkobAccount) {
  const now = isoNow();
  return [
    { AccountId: account.accountId, CreditDebitIndicator: direction(account.booked), Type: 'CLBD', DateTime: now, Amount: amount(account.booked) },
    { AccountId: account.accountId, CreditDebitIndicator: direction(account.available), Type: 'ITAV', DateTime: now, Amount: amount(account.available) },
  ];
}

function transactionBody(account: UkobAccount, t: UkobTransaction, detail: boolean) {
  return {
    AccountId: account.accountId,
    TransactionId: t.id,
    TransactionReference: t.reference,
    CreditDebitIndicator: direction(t.amount),
    Status: t.status,
    BookingDateTime: t.bookingDateTime,
    ValueDateTime: t.bookingDateTime,
    Amount: amount(t.amount),
    ...(detail ? { TransactionInformation: `${t.reference} ${t.counterparty}`.slice(0, 500) } : {}),
  };
}

/** An ISO date-time query filter; OB says a time zone given in it is ignored. */
function dateFilter(request: OperationRequest, name: string): number | undefined | Response {
  const raw = request.url.searchParams.get(name);
  if (raw === null || raw === '') return undefined;
  const parsed = Date.parse(raw.replace(/(Z|[+-]\d{2}:?\d{2})$/, '') + 'Z');
  return Number.isNaN(parsed) ? obError(400, OB_ERROR.fieldInvalid, `${name} must be an ISO 8601 date-time`, name) : parsed;
}

/** The AISP 4.0 handlers by operationId. */
export function accountInformationOperations(context: UkobOperationContext): Record<string, Handler> {
  const { intents } = context;
  const consentHandlers = consentResource(context, 'account-access', 'account-access', consentBody);

  /** The PSU token's consent, AUTH, with the needed permission (any of `needed`). */
  async function consent(request: OperationRequest, needed: readonly string[]): Promise<AccountAccessIntent | Response> {
    const intent = await psuIntent(context, request, 'account-access');
    if (intent instanceof Response) return intent;
    if (intent.status !== 'AUTH') {
      return obError(403, OB_ERROR.reauthenticate, `consent ${intent.id} is ${intent.status}: the PSU must authorise a new consent`);
    }
    if (!needed.some((p) => intent.permissions.includes(p))) {
      return obError(403, OB_ERROR.otherReason, `consent ${intent.id} does not grant ${needed.join(' or ')}`);
    }
    return intent;
  }

  /** The consented accounts, or the one named in the path (403 when it is not consented). */
  function accountsIn(request: OperationRequest, intent: AccountAccessIntent): UkobAccount[] | Response {
    const ids = request.params.AccountId === undefined ? intent.accountIds : [request.params.AccountId];
    if (request.params.AccountId !== undefined && !intent.accountIds.includes(request.params.AccountId)) {
      return obError(403, OB_ERROR.otherReason, `account ${request.params.AccountId} is not in consent ${intent.id}`);
    }
    return ids.map((id) => findUkobAccount(id)?.account).filter((a): a is UkobAccount => a !== undefined);
  }

  function list(needed: readonly string[], field: string, items: (accounts: UkobAccount[], intent: AccountAccessIntent) => unknown[] = () => []): Handler {
    return async (request) => {
      const intent = await consent(request, needed);
      if (intent instanceof Response) return intent;
      const accounts = accountsIn(request, intent);
      if (accounts instanceof Response) return accounts;
      return json(200, { Data: { [field]: items(accounts, intent) }, Links: selfLink(request, request.url.pathname.slice(request.api.basePath.length)), Meta: { TotalPages: 1 } });
    };
  }

  const transactions: Handler = async (request) => {
    const intent = await consent(request, TRANSACTION_DETAIL);
    if (intent instanceof Response) return intent;
    const accounts = accountsIn(request, intent);
    if (accounts instanceof Response) return accounts;
    const from = dateFilter(request, 'fromBookingDateTime');
    if (from instanceof Response) return from;
    const to = dateFilter(request, 'toBookingDateTime');
    if (to instanceof Response) return to;
    const consentFrom = intent.transactionFromDateTime ? Date.parse(intent.transactionFromDateTime) : -Infinity;
    const consentTo = intent.transactionToDateTime ? Date.parse(intent.transactionToDateTime) : Infinity;
    const detail = intent.permissions.includes('ReadTransactionsDetail');
    const credits = intent.permissions.includes('ReadTransactionsCredits');
    const debits = intent.permissions.includes('ReadTransactionsDebits');
    const Transaction = accounts.flatMap((account) =>
      account.transactions
        .filter((t) => {
          const at = Date.parse(t.bookingDateTime);
          const isCredit = !t.amount.startsWith('-');
          return at >= Math.max(consentFrom, from ?? -Infinity) && at <= Math.min(consentTo, to ?? Infinity) && (isCredit ? credits : debits);
        })
        .map((t) => transactionBody(account, t, detail)),
    );
    return json(200, { Data: { Transaction }, Links: selfLink(request, request.url.pathname.slice(request.api.basePath.length)), Meta: { TotalPages: 1 } });
  };

  const accounts: Handler = async (request) => {
    const intent = await consent(request, ['ReadAccountsBasic', 'ReadAccountsDetail']);
    if (intent instanceof Response) return intent;
    const found = accountsIn(request, intent);
    if (found instanceof Response) return found;
    const detail = intent.permissions.includes('ReadAccountsDetail');
    return json(200, { Data: { Account: found.map((a) => accountBody(a, detail)) }, Links: selfLink(request, request.url.pathname.slice(request.api.basePath.length)), Meta: { TotalPages: 1 } });
  };

  /** The PSU as a party: `/party` (ReadPartyPSU), an account's `/party` and `/parties` (ReadParty, its holder). */
  function party(needed: string, many: boolean): Handler {
    return async (request) => {
      const intent = await consent(request, [needed]);
      if (intent instanceof Response) return intent;
      const accounts = accountsIn(request, intent);
      if (accounts instanceof Response) return accounts;
      const psu = findUkobPsu(intent.psuId ?? '')!;
      const holder = { PartyId: `party-${psu.id}`, PartyType: 'Sole', Name: psu.name };
      return json(200, { Data: { Party: many ? [holder] : holder }, Links: selfLink(request, request.url.pathname.slice(request.api.basePath.length)), Meta: {} });
    };
  }

  /** The sandbox has no statements: any StatementId is unknown (after the consent checks). */
  const statement: Handler = async (request) => {
    const intent = await consent(request, ['ReadStatementsBasic', 'ReadStatementsDetail']);
    if (intent instanceof Response) return intent;
    const accounts = accountsIn(request, intent);
    if (accounts instanceof Response) return accounts;
    return obError(400, OB_ERROR.notFound, `no statement ${request.params.StatementId} on account ${request.params.AccountId}`, 'StatementId');
  };

  return {
    CreateAccountAccessConsents: checkedPost(context, async (request, body) => {
      const data = body.Data as { Permissions: string[]; ExpirationDateTime?: string; TransactionFromDateTime?: string; TransactionToDateTime?: string };
      const problem = permissionProblem(data.Permissions);
      if (problem) return obError(400, OB_ERROR.fieldInvalid, problem, 'Data.Permissions');
      if (data.ExpirationDateTime && Date.parse(data.ExpirationDateTime) <= Date.now()) {
        return obError(400, OB_ERROR.fieldInvalidDate, 'ExpirationDateTime must be in the future', 'Data.ExpirationDateTime');
      }
      if (data.TransactionFromDateTime && data.TransactionToDateTime && Date.parse(data.TransactionFromDateTime) > Date.parse(data.TransactionToDateTime)) {
        return obError(400, OB_ERROR.fieldInvalidDate, 'TransactionFromDateTime must not be after TransactionToDateTime', 'Data.TransactionFromDateTime');
      }
      const intent = intents.createAccountAccess(request.token.clientId, {
        permissions: [...new Set(data.Permissions)],
        ...(data.ExpirationDateTime ? { expirationDateTime: data.ExpirationDateTime } : {}),
        ...(data.TransactionFromDateTime ? { transactionFromDateTime: data.TransactionFromDateTime } : {}),
        ...(data.TransactionToDateTime ? { transactionToDateTime: data.TransactionToDateTime } : {}),
      });
      return json(201, consentBody(request, intent));
    }),
    GetAccountAccessConsentsConsentId: consentHandlers.read,
    DeleteAccountAccessConsentsConsentId: consentHandlers.revoke,
    GetAccounts: accounts,
    GetAccountsAccountId: accounts,
    GetBalances: list(['ReadBalances'], 'Balance', (found) => found.flatMap(balances)),
    GetAccountsAccountIdBalances: list(['ReadBalances'], 'Balance', (found) => found.flatMap(balances)),
    GetTransactions: transactions,
    GetAccountsAccountIdTransactions: transactions,
    GetBeneficiaries: list(['ReadBeneficiariesBasic', 'ReadBeneficiariesDetail'], 'Beneficiary'),
    GetAccountsAccountIdBeneficiaries: list(['ReadBeneficiariesBasic', 'ReadBeneficiariesDetail'], 'Beneficiary'),
    GetDirectDebits: list(['ReadDirectDebits'], 'DirectDebit'),
    GetAccountsAccountIdDirectDebits: list(['ReadDirectDebits'], 'DirectDebit'),
    GetStandingOrders: list(['ReadStandingOrdersBasic', 'ReadStandingOrdersDetail'], 'StandingOrder'),
    GetAccountsAccountIdStandingOrders: list(['ReadStandingOrdersBasic', 'ReadStandingOrdersDetail'], 'StandingOrder'),
    GetScheduledPayments: list(['ReadScheduledPaymentsBasic', 'ReadScheduledPaymentsDetail'], 'ScheduledPayment'),
    GetAccountsAccountIdScheduledPayments: list(['ReadScheduledPaymentsBasic', 'ReadScheduledPaymentsDetail'], 'ScheduledPayment'),
    GetStatements: list(['ReadStatementsBasic', 'ReadStatementsDetail'], 'Statement'),
    GetAccountsAccountIdStatements: list(['ReadStatementsBasic', 'ReadStatementsDetail'], 'Statement'),
    GetOffers: list(['ReadOffers'], 'Offer'),
    GetAccountsAccountIdOffers: list(['ReadOffers'], 'Offer'),
    GetProducts: list(['ReadProducts'], 'Product'),
    GetAccountsAccountIdProduct: list(['ReadProducts'], 'Product'),
    GetAccountsAccountIdStatementsStatementId: statement,
    GetAccountsAccountIdStatementsStatementIdFile: statement,
    GetAccountsAccountIdStatementsStatementIdTransactions: statement,
    GetAccountsAccountIdParties: party('ReadParty', true),
    GetAccountsAccountIdParty: party('ReadParty', false),
    GetParty: party('ReadPartyPSU', false),
  };
}
