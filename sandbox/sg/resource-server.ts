/**
 * The SG-like resource server: STET AISP, PISP and CBPII under `/sg/sb/dsp2/<api>/v1.4.2.15`, answers shaped by
 * openapi/sg/{aisp,pisp,cbpii}.yaml (`application/hal+json`), STET errors `{"status","error","message"}`.
 * On top of the shared pipeline it checks, like the bank: the access token is bound to the client certificate
 * of this connection (RFC 8705 `x5t#S256`), then the draft-cavage `Signature` and `Digest` with the TPP's QSeal.
 * Payment requests are kept in memory and approved by the PSU at the bank's consentApproval page
 * (payment-requests.ts): RCVD until then, ACSP/ACSC or RJCT after.
 */
import { X509Certificate } from 'node:crypto';
import { findPsu, SG_PSUS, type SandboxAccount } from '../data.js';
import type { BankResourceProfile, ErrorKind, OperationRequest } from '../resource-server.js';
import { createSignatureVerifier, type SigningKey } from '../signature-verifier.js';
import type { SgPaymentRequests } from './payment-requests.js';

const HAL = 'application/hal+json; charset=utf-8';

const ERRORS: Record<ErrorKind, string> = {
  not_found: 'not_found',
  format: 'invalid_request',
  token_invalid: 'invalid_token',
  scope: 'insufficient_scope',
  certificate_binding: 'invalid_token',
  signature: 'invalid_signature',
  internal: 'server_error',
};

export function sgError(kind: ErrorKind, status: number, message: string, path: string): Response {
  const error = ERRORS[kind];
  const headers: Record<string, string> = { 'content-type': 'application/json; charset=utf-8' };
  if (kind === 'token_invalid' || kind === 'certificate_binding' || kind === 'scope') {
    headers['www-authenticate'] = `Bearer error="${error}"`;
  } else if (kind === 'signature') {
    headers['www-authenticate'] = 'Signature headers="(request-target) digest x-request-id"';
  }
  const body = { timestamp: new Date().toISOString(), status, error, message, path: path.split('?')[0] };
  return new Response(JSON.stringify(body), { status, headers });
}

function hal(request: OperationRequest, status: number, body: unknown, extra: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { 'content-type': HAL, 'x-request-id': request.headers.get('x-request-id') ?? '', ...extra },
  });
}

function accountsOf(request: OperationRequest): readonly SandboxAccount[] {
  return findPsu(SG_PSUS, request.token.accountId ?? '')?.accounts ?? [];
}

function amount(account: SandboxAccount, signed: string) {
  return { currency: account.currency, amount: signed.replace(/^-/, '') };
}

function balances(account: SandboxAccount) {
  const today = new Date().toISOString().slice(0, 10);
  return [
    { name: 'Solde comptable', balanceAmount: { currency: account.currency, amount: account.booked }, balanceType: 'CLBD', referenceDate: today },
    {
      name: 'Solde instantané',
      balanceAmount: { currency: account.currency, amount: account.available },
      balanceType: 'XPCD',
      lastChangeDateTime: new Date().toISOString(),
    },
  ];
}

function parseJson(body: Uint8Array): Record<string, unknown> | string {
  try {
    const parsed: unknown = JSON.parse(Buffer.from(body).toString('utf8'));
    if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) return parsed as Record<string, unknown>;
    return 'the body must be a JSON object';
  } catch {
    return 'the body is not JSON';
  }
}

function missing(body: Record<string, unknown>, fields: readonly string[]): string | undefined {
  const absent = fields.filter((field) => body[field] === undefined);
  return absent.length > 0 ? `missing ${absent.join(', ')}` : undefined;
}

const PAYMENT_REQUIRED = [
  'paymentInformationId',
  'creationDateTime',
  'numberOfTransactions',
  'initiatingParty',
  'paymentTypeInformation',
  'debtor',
  'creditTransferTransaction',
  'supplementaryData',
] as const;

export function createSgResourceProfile(options: { signing: SigningKey; paymentRequests: SgPaymentRequests }): BankResourceProfile {
  const verifySignature = createSignatureVerifier(options.signing);
  // When the TPP sends its QSeal certificate (Berlin Group `TPP-Signature-Certificate`), it must be the registered one.
  const sealCertificateB64 = new X509Certificate(options.signing.certPem).raw.toString('base64');
  const { paymentRequests } = options;

  return {
    bank: 'sg',
    error: sgError,
    verify(request) {
      if (request.token.x5tS256 && request.token.x5tS256 !== request.clientCertThumbprint) {
        return sgError(
          'certificate_binding',
          401,
          'certificate binding: the access token is bound to another client certificate (x5t#S256 mismatch, RFC 8705)',
          request.target,
        );
      }
      const signature = verifySignature(request);
      if (!signature.ok) return sgError('signature', 401, `signature: ${signature.reason}`, request.target);
      const certificate = request.headers.get('tpp-signature-certificate');
      if (certificate !== null && certificate.replace(/\s+/g, '') !== sealCertificateB64) {
        return sgError('signature', 401, 'signature: TPP-Signature-Certificate is not the QSeal certificate registered for this keyId', request.target);
      }
      return undefined;
    },
    operations: {
      accountsGet(request) {
        const base = request.api.basePath;
        return hal(request, 200, {
          accounts: accountsOf(request).map((account) => ({
            resourceId: account.resourceId,
            bicFi: account.bic,
            accountId: { iban: account.iban, currency: account.currency },
            name: account.name,
            details: account.product,
            usage: account.usage,
            cashAccountType: account.cashAccountType,
            psuStatus: 'Account Holder',
            _links: {
              balances: { href: `${base}/accounts/${account.resourceId}/balances` },
              transactions: { href: `${base}/accounts/${account.resourceId}/transactions` },
            },
          })),
          _links: { self: { href: `${base}/accounts` } },
        });
      },
      balancesGet(request) {
        const account = accountsOf(request).find((a) => a.resourceId === request.params.accountResourceId);
        if (!account) return sgError('not_found', 404, `no account ${request.params.accountResourceId} for this PSU`, request.target);
        const base = request.api.basePath;
        return hal(request, 200, {
          balances: balances(account),
          _links: {
            self: { href: `${base}/accounts/${account.resourceId}/balances` },
            'parent-list': { href: `${base}/accounts` },
            transactions: { href: `${base}/accounts/${account.resourceId}/transactions` },
          },
        });
      },
      transactionsGet(request) {
        const account = accountsOf(request).find((a) => a.resourceId === request.params.accountResourceId);
        if (!account) return sgError('not_found', 404, `no account ${request.params.accountResourceId} for this PSU`, request.target);
        const from = Date.parse(request.url.searchParams.get('dateFrom') ?? '') || -Infinity;
        const to = Date.parse(request.url.searchParams.get('dateTo') ?? '') || Infinity;
        const transactions = account.transactions
          .filter((t) => Date.parse(t.bookingDate) >= from && Date.parse(t.bookingDate) <= to)
          .map((t) => ({
            resourceId: t.id,
            entryReference: t.id.toUpperCase(),
            transactionAmount: amount(account, t.amount),
            creditDebitIndicator: t.amount.startsWith('-') ? 'DBIT' : 'CRDT',
            status: t.status === 'booked' ? 'BOOK' : 'PDNG',
            bookingDate: t.bookingDate,
            valueDate: t.valueDate,
            remittanceInformation: [`${t.remittance} ${t.counterparty}`],
          }));
        return hal(request, 200, {
          transactions,
          _links: { self: { href: `${request.api.basePath}/accounts/${account.resourceId}/transactions` } },
        });
      },
      paymentRequestsPost(request) {
        const body = parseJson(request.body);
        if (typeof body === 'string') return sgError('format', 400, body, request.target);
        const problem = missing(body, PAYMENT_REQUIRED);
        if (problem) return sgError('format', 400, problem, request.target);
        if (!Array.isArray(body.creditTransferTransaction) || body.creditTransferTransaction.length === 0) {
          return sgError('format', 400, 'creditTransferTransaction must hold one transaction', request.target);
        }
        const supplementary = body.supplementaryData as { acceptedAuthenticationApproach?: unknown; successfulReportUrl?: unknown };
        if (!Array.isArray(supplementary.acceptedAuthenticationApproach) || !supplementary.acceptedAuthenticationApproach.includes('REDIRECT')) {
          return sgError('format', 400, 'supplementaryData.acceptedAuthenticationApproach must accept REDIRECT, the only approach of this bank', request.target);
        }
        if (typeof supplementary.successfulReportUrl !== 'string' || !URL.canParse(supplementary.successfulReportUrl)) {
          return sgError('format', 400, 'supplementaryData.successfulReportUrl must be an absolute URL', request.target);
        }
        const stored = paymentRequests.create(request.token.clientId, body);
        const self = `${request.api.basePath}/payment-requests/${stored.resourceId}`;
        return hal(
          request,
          201,
          { appliedAuthenticationApproach: 'REDIRECT', _links: { consentApproval: { href: paymentRequests.consentApprovalUrl(stored) } } },
          { location: `${request.origin}${self}` },
        );
      },
      paymentRequestGet(request) {
        const stored = paymentRequests.get(request.params.paymentRequestResourceId);
        if (!stored || stored.clientId !== request.token.clientId) {
          return sgError('not_found', 404, `no payment request ${request.params.paymentRequestResourceId}`, request.target);
        }
        return hal(request, 200, {
          paymentRequest: { ...stored.request, resourceId: stored.resourceId, paymentInformationStatus: stored.status },
        });
      },
      fundsConfirmationsPost(request) {
        const body = parseJson(request.body);
        if (typeof body === 'string') return sgError('format', 400, body, request.target);
        const problem = missing(body, ['paymentCoverageRequestId', 'instructedAmount', 'accountId']);
        if (problem) return sgError('format', 400, problem, request.target);
        const iban = (body.accountId as { iban?: unknown }).iban;
        const account = accountsOf(request).find((a) => a.iban === iban);
        if (!account) return sgError('format', 400, `accountId.iban ${String(iban)} is not an account of this PSU`, request.target);
        const instructed = body.instructedAmount as { amount?: unknown; currency?: unknown };
        const result = instructed.currency === account.currency && Number(instructed.amount) <= Number(account.available);
        return hal(request, 200, {
          request: body,
          result,
          _links: { self: { href: `${request.api.basePath}/funds-confirmations` } },
        });
      },
    },
  };
}
