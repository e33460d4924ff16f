/**
 * The SEB-like resource server: Berlin Group NextGenPSD2 AIS and PIS under `/ais/v7/identified2` and
 * `/pis/v7/identified2`, answers shaped by openapi/seb/{ais,pis}.yaml, errors as `{"tppMessages":[…]}`.
 * Payments are kept in memory, RCVD until the PSU signs them (signing.ts: Mobile BankID or Digipass, through
 * `…/authorisations`); then a payment from the PSU's own account that the balance covers is `ACSC`, any other `RJCT`.
 */
import { randomUUID } from 'node:crypto';
import { findPsu, SEB_PSUS, type SandboxAccount, type SandboxTransaction } from '../data.js';
import type { BankResourceProfile, ErrorKind, OperationRequest } from '../resource-server.js';
import { DIGIPASS, MOBILT_BANKID, type SebScaMethod, type SebSignings } from './signing.js';

const CODES: Record<ErrorKind | 'conflict', string> = {
  not_found: 'RESOURCE_UNKNOWN',
  conflict: 'STATUS_INVALID',
  format: 'FORMAT_ERROR',
  token_invalid: 'TOKEN_INVALID',
  scope: 'CONSENT_INVALID',
  certificate_binding: 'CERTIFICATE_INVALID',
  signature: 'SIGNATURE_INVALID',
  internal: 'INTERNAL_ERROR',
};

export function sebError(kind: ErrorKind | 'conflict', status: number, text: string): Response {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (status === 401) headers['www-authenticate'] = 'Bearer error="invalid_token"';
  return new Response(JSON.stringify({ tppMessages: [{ category: 'ERROR', code: CODES[kind], text }] }), { status, headers });
}

function json(request: OperationRequest, status: number, body: unknown, extra: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { 'content-type': 'application/json', 'x-request-id': request.headers.get('x-request-id') ?? '', ...extra },
  });
}

function accountsOf(request: OperationRequest): readonly SandboxAccount[] {
  return findPsu(SEB_PSUS, request.token.accountId ?? '')?.accounts ?? [];
}

function accountOr404(request: OperationRequest): SandboxAccount | Response {
  const id = request.params['account-id'];
  return accountsOf(request).find((a) => a.resourceId === id) ?? sebError('not_found', 404, `no account ${id} in this consent`);
}

function amount(account: SandboxAccount, value: string) {
  return { currency: account.currency, amount: value };
}

function balances(account: SandboxAccount) {
  const today = new Date().toISOString().slice(0, 10);
  return [
    { balanceType: 'closingBooked', balanceAmount: amount(account, account.booked), creditLimitIncluded: false, referenceDate: today },
    { balanceType: 'expected', balanceAmount: amount(account, account.available), creditLimitIncluded: false, referenceDate: today },
  ];
}

function accountDetails(request: OperationRequest, account: SandboxAccount, withBalance: boolean) {
  const self = `${request.api.basePath}/accounts/${account.resourceId}`;
  return {
    resourceId: account.resourceId,
    iban: account.iban,
    bban: account.bban,
    currency: account.currency,
    name: account.name,
    ownerName: findPsu(SEB_PSUS, request.token.accountId ?? '')?.name,
    product: account.product,
    cashAccountType: account.cashAccountType,
    status: 'enabled',
    bic: account.bic,
    usage: account.usage,
    ...(withBalance ? { balances: balances(account) } : {}),
    _links: { balances: { href: `${self}/balances` }, transactions: { href: `${self}/transactions?bookingStatus=both` } },
  };
}

function transaction(account: SandboxAccount, t: SandboxTransaction) {
  const debit = t.amount.startsWith('-');
  return {
    transactionId: t.id,
    entryReference: t.id.toUpperCase(),
    bookingDate: t.bookingDate,
    valueDate: t.valueDate,
    transactionAmount: amount(account, t.amount),
    ...(debit ? { creditorName: t.counterparty } : { debtorName: t.counterparty }),
    remittanceInformationUnstructured: t.remittance,
  };
}

interface StoredPayment {
  readonly paymentId: string;
  readonly product: string;
  readonly psuId: string;
  readonly initiation: Record<string, unknown>;
  /** Whether the PSU's account covers it, decided when it is signed. */
  readonly covered: boolean;
  /** TPP-Redirect-URI of the initiation: where a redirect signing sends the PSU back by default. */
  readonly redirectUri: string | undefined;
  transactionStatus: string;
}

/** The signing methods of a PSU: Mobile BankID for everyone, Digipass for corporate customers. */
function scaMethodsOf(psuId: string): readonly SebScaMethod[] {
  const corporate = findPsu(SEB_PSUS, psuId)?.accounts.some((a) => a.usage === 'ORGA') ?? false;
  return corporate ? [MOBILT_BANKID, DIGIPASS] : [MOBILT_BANKID];
}

const REQUIRED_PAYMENT_FIELDS = ['instructedAmount', 'debtorAccount', 'creditorAccount', 'creditorName'] as const;
const AMOUNT = /^[0-9]{1,14}(\.[0-9]{1,3})?$/;

function parsePayment(body: Uint8Array): Record<string, unknown> | string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(body).toString('utf8'));
  } catch {
    return 'the body is not JSON';
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return 'the body must be a JSON object';
  const payment = parsed as Record<string, unknown>;
  const missing = REQUIRED_PAYMENT_FIELDS.filter((field) => payment[field] === undefined);
  if (missing.length > 0) return `missing ${missing.join(', ')}`;
  const instructed = payment.instructedAmount as { amount?: unknown; currency?: unknown };
  if (typeof instructed?.amount !== 'string' || !AMOUNT.test(instructed.amount)) return 'instructedAmount.amount must be a decimal string';
  if (typeof instructed.currency !== 'string' || !/^[A-Z]{3}$/.test(instructed.currency)) return 'instructedAmount.currency must be an ISO 4217 code';
  return payment;
}

/**
 * The SEB-like bank's resource profile; payments live as long as the profile (one sandbox run). `signings` is
 * created with `executePayment` as its callback, so that a finalized signing executes the payment.
 */
export function createSebResourceProfile(options: { signings: (execute: (paymentId: string) => void) => SebSignings }): BankResourceProfile {
  const payments = new Map<string, StoredPayment>();
  const signings = options.signings((paymentId) => {
    const payment = payments.get(paymentId);
    if (payment?.transactionStatus === 'RCVD') payment.transactionStatus = payment.covered ? 'ACSC' : 'RJCT';
  });
  const paymentPath = (request: OperationRequest, payment: StoredPayment) => `${request.api.basePath}/payments/${payment.product}/${payment.paymentId}`;
  /** While RCVD: the methods to sign with and where to start (SEB's status answer). */
  const signable = (request: OperationRequest, payment: StoredPayment) =>
    payment.transactionStatus === 'RCVD'
      ? {
          scaMethods: scaMethodsOf(payment.psuId),
          _links: { startAuthorisationWithAuthenticationMethodSelection: { href: `${paymentPath(request, payment)}/authorisations` } },
        }
      : {};

  function paymentOr404(request: OperationRequest): StoredPayment | Response {
    const payment = payments.get(request.params['payment-id'] ?? '');
    if (!payment || payment.psuId !== request.token.accountId || payment.product !== request.params['payment-product']) {
      return sebError('not_found', 404, `no payment ${request.params['payment-id']}`);
    }
    return payment;
  }

  return {
    bank: 'seb',
    error: (kind, status, message) => sebError(kind, status, message),
    operations: {
      getAccountList(request) {
        const withBalance = request.url.searchParams.get('withBalance') === 'true';
        return json(request, 200, { accounts: accountsOf(request).map((a) => accountDetails(request, a, withBalance)) });
      },
      readAccountDetails(request) {
        const account = accountOr404(request);
        if (account instanceof Response) return account;
        return json(request, 200, { account: accountDetails(request, account, request.url.searchParams.get('withBalance') === 'true') });
      },
      getBalances(request) {
        const account = accountOr404(request);
        if (account instanceof Response) return account;
        return json(request, 200, { account: { iban: account.iban, currency: account.currency }, balances: balances(account) });
      },
      getTransactionList(request) {
        const account = accountOr404(request);
        if (account instanceof Response) return account;
        const status = request.url.searchParams.get('bookingStatus');
        const from = request.url.searchParams.get('dateFrom') ?? '0000-00-00';
        const to = request.url.searchParams.get('dateTo') ?? '9999-99-99';
        const inRange = account.transactions.filter((t) => t.bookingDate >= from && t.bookingDate <= to);
        const pick = (kind: 'booked' | 'pending') =>
          inRange.filter((t) => t.status === kind).map((t) => transaction(account, t));
        return json(request, 200, {
          account: { iban: account.iban, currency: account.currency },
          transactions: {
            ...(status !== 'pending' ? { booked: pick('booked') } : {}),
            ...(status !== 'booked' ? { pending: pick('pending') } : {}),
            _links: { account: { href: `${request.api.basePath}/accounts/${account.resourceId}` } },
          },
        });
      },
      initiatePayment(request) {
        const initiation = parsePayment(request.body);
        if (typeof initiation === 'string') return sebError('format', 400, initiation);
        const psuId = request.token.accountId ?? '';
        const debtorIban = (initiation.debtorAccount as { iban?: string }).iban;
        const debtor = accountsOf(request).find((a) => a.iban === debtorIban);
        const instructed = initiation.instructedAmount as { amount: string; currency: string };
        const covered = debtor !== undefined && debtor.currency === instructed.currency && Number(instructed.amount) <= Number(debtor.available);
        const payment: StoredPayment = {
          paymentId: randomUUID(),
          product: request.params['payment-product']!,
          psuId,
          initiation,
          covered,
          redirectUri: request.headers.get('tpp-redirect-uri') ?? undefined,
          transactionStatus: 'RCVD',
        };
        payments.set(payment.paymentId, payment);
        const self = paymentPath(request, payment);
        return json(
          request,
          201,
          {
            transactionStatus: 'RCVD',
            paymentId: payment.paymentId,
            scaMethods: scaMethodsOf(psuId),
            _links: { self: { href: self }, status: { href: `${self}/status` }, startAuthorisationWithAuthenticationMethodSelection: { href: `${self}/authorisations` } },
          },
          { location: `${request.origin}${self}` },
        );
      },
      getPaymentInformation(request) {
        const payment = paymentOr404(request);
        if (payment instanceof Response) return payment;
        const { endToEndIdentification, instructedAmount, debtorAccount, creditorAccount, creditorName } = payment.initiation;
        return json(request, 200, {
          transactionStatus: payment.transactionStatus,
          endToEndIdentification,
          instructedAmount,
          debtorAccount,
          creditorAccount,
          creditorName,
        });
      },
      getPaymentInitiationStatus(request) {
        const payment = paymentOr404(request);
        if (payment instanceof Response) return payment;
        signings.of(payment.paymentId); // applies signings finished meanwhile
        return json(request, 200, { transactionStatus: payment.transactionStatus, ...signable(request, payment) });
      },
      startPaymentAuthorisation(request) {
        const payment = paymentOr404(request);
        if (payment instanceof Response) return payment;
        if (signings.of(payment.paymentId).some((s) => s.scaStatus === 'started')) {
          return sebError('conflict', 409, 'a signing of this payment is in progress: poll it, or wait until it failed');
        }
        if (payment.transactionStatus !== 'RCVD') return sebError('conflict', 409, `the payment is ${payment.transactionStatus}: nothing to sign`);
        let methodId: unknown;
        try {
          methodId = (JSON.parse(Buffer.from(request.body).toString('utf8')) as { authenticationMethodId?: unknown }).authenticationMethodId;
        } catch {
          return sebError('format', 400, 'the body is not JSON');
        }
        const methods = scaMethodsOf(payment.psuId);
        const method = methods.find((m) => m.authenticationMethodId === methodId);
        if (!method) return sebError('format', 400, `authenticationMethodId must be one of ${methods.map((m) => m.authenticationMethodId).join(', ')}`);
        const redirectUri = request.headers.get('tpp-redirect-uri') ?? payment.redirectUri;
        if (method === DIGIPASS && !redirectUri) return sebError('format', 400, 'TPP-Redirect-URI is required to sign with digipass');
        const signing = signings.start(payment.paymentId, payment.psuId, method, redirectUri);
        return json(request, 200, signings.view(signing, paymentPath(request, payment)));
      },
      getPaymentInitiationAuthorisation(request) {
        const payment = paymentOr404(request);
        if (payment instanceof Response) return payment;
        return json(request, 200, { authorisationIds: signings.of(payment.paymentId).map((s) => s.authorisationId) });
      },
      getPaymentInitiationScaStatus(request) {
        const payment = paymentOr404(request);
        if (payment instanceof Response) return payment;
        const signing = signings.get(request.params['authorisation-id']);
        if (!signing || signing.paymentId !== payment.paymentId) return sebError('not_found', 404, `no authorisation ${request.params['authorisation-id']}`);
        return json(request, 200, signings.view(signing, paymentPath(request, payment)));
      },
    },
  };
}
