/**
 * The Berlin-Group-like bank's XS2A interface over mTLS: the operations of the real NextGenPSD2 1.3.9 spec
 * (generated manifest `generated/bg/xs2a/routes.ts`) under `/psd2`, checked as the bank checks them:
 * route known (404) → required headers and query (400 FORMAT_ERROR) → the TPP from its QWAC (organizationIdentifier)
 * → an OAuth access token when one is sent (valid, this TPP's, bound to this certificate: 401 TOKEN_*) → the body
 * against the spec (400 FORMAT_ERROR) → the operation, whose rules live in bank.ts.
 * Unlike the SEB-like and SG-like banks no token is needed in general: Berlin Group identifies the TPP by its
 * certificate and the PSU's consent by `Consent-ID`; a token is needed where OAuth SCA bound one to the consent.
 */
import { X509Certificate } from 'node:crypto';
import type { HttpBindings } from '@hono/node-server';
import type { Context } from 'hono';
import type Provider from 'oidc-provider';
import type { ApiManifest } from '../../plugin/manifest/types.js';
import { bearerValue } from '../bearer-token.js';
import type { FaultRegistry } from '../faults.js';
import type { RequestHandler } from '../listen.js';
import { createBankRequestListener, missingParams, UUID } from '../resource-server.js';
import { createRouteTable, type RouteMatch } from '../route-table.js';
import type { SandboxStats } from '../stats.js';
import { peerCertificate } from '../tls.js';
import type { SandboxAccount, SandboxTransaction } from '../data.js';
import type { BgBank, BgToken } from './bank.js';
import { createBodyValidator, pointerSegment, type BodyValidator } from './body-validator.js';
import type { Consent, ConsentRequest } from './consents.js';
import { BgError, bgErrorResponse, type BgErrorCode } from './errors.js';
import type { PaymentInitiation } from './payments.js';
import { BG_PSUS, findBgPsu } from './psus.js';
import type { ScaSubject } from './sca.js';

/** What an operation handler gets. */
interface BgRequest {
  readonly match: RouteMatch;
  readonly params: Readonly<Record<string, string>>;
  readonly url: URL;
  readonly headers: Headers;
  /** The parsed JSON body (`{}` when there is none). */
  readonly body: Record<string, unknown>;
  /** The TPP: its QWAC's organizationIdentifier. */
  readonly tppId: string;
  /**
   * The OAuth access token sent, verified (valid, this TPP's, bound to this certificate), or undefined when none
   * was sent. Only the operations a token matters to ask: a consent's status stays readable with a revoked token.
   */
  token(): Promise<BgToken | undefined>;
  readonly requestId: string;
}

type Handler = (request: BgRequest) => Response | Promise<Response>;

/** The TPP's identity in its eIDAS certificate: the organizationIdentifier (PSD2 authorisation number). */
export function tppIdOf(certificate: X509Certificate): string | undefined {
  const line = certificate.subject.split('\n').find((part) => part.startsWith('organizationIdentifier=') || part.startsWith('2.5.4.97='));
  return line?.slice(line.indexOf('=') + 1);
}

function json(request: BgRequest, status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { 'content-type': 'application/json', 'x-request-id': request.requestId, ...headers },
  });
}

function amount(account: SandboxAccount, value: string) {
  return { currency: account.currency, amount: value };
}

function balances(account: SandboxAccount, today: string) {
  return [
    { balanceType: 'closingBooked', balanceAmount: amount(account, account.booked), referenceDate: today },
    { balanceType: 'expected', balanceAmount: amount(account, account.available), referenceDate: today },
  ];
}

function transaction(account: SandboxAccount, t: SandboxTransaction) {
  const debit = t.amount.startsWith('-');
  return {
    transactionId: t.id,
    // entryReference is Max35Text.
    entryReference: t.id.replace(/-/g, '').slice(-20).toUpperCase(),
    bookingDate: t.bookingDate,
    valueDate: t.valueDate,
    transactionAmount: amount(account, t.amount),
    ...(debit ? { creditorName: t.counterparty } : { debtorName: t.counterparty }),
    remittanceInformationUnstructured: t.remittance,
  };
}

export interface BgResourceServerOptions {
  readonly bank: BgBank;
  readonly provider: Provider;
  readonly manifest: ApiManifest;
  readonly document: Record<string, unknown>;
  /** `/psd2`: the spec declares no server, the bank serves it here. */
  readonly basePath: string;
  readonly origin: string;
  readonly stats: SandboxStats;
  readonly faults?: FaultRegistry;
}

export function createBgResourceServer(options: BgResourceServerOptions): RequestHandler {
  const { bank, provider, basePath, origin } = options;
  const table = createRouteTable([{ name: 'xs2a', basePath, manifest: options.manifest }]);
  const validateBody = createBodyValidator(options.document);
  const operations = bgOperations(bank, basePath, origin, validateBody);

  async function verifiedToken(authorization: string | null, certificate: X509Certificate, tppId: string): Promise<BgToken | undefined> {
    if (authorization === null) return undefined;
    const value = bearerValue(authorization);
    if (!value) throw new BgError(401, 'TOKEN_INVALID', 'the Authorization header is not a Bearer access token');
    const token = await provider.AccessToken.find(value);
    if (!token) throw new BgError(401, 'TOKEN_INVALID', 'the access token is unknown, revoked or expired');
    if (token.isExpired) throw new BgError(401, 'TOKEN_EXPIRED', 'the access token has expired');
    if (!token.grantId || !(await provider.Grant.find(token.grantId))) throw new BgError(401, 'TOKEN_INVALID', 'the access token was revoked');
    if (token.clientId !== tppId) throw new BgError(401, 'TOKEN_INVALID', 'the access token was issued to another TPP');
    const thumbprint = token['x5t#S256'];
    if (thumbprint !== undefined && thumbprint !== certificateThumbprintOf(certificate)) {
      throw new BgError(401, 'TOKEN_INVALID', 'the access token is bound to another client certificate (RFC 8705)');
    }
    return { psuId: String(token.accountId), scopes: new Set(String(token.scope ?? '').split(' ').filter(Boolean)), grantId: token.grantId };
  }

  async function run(c: Context<{ Bindings: HttpBindings }>, target: string): Promise<Response> {
    const requestId = c.req.header('x-request-id') ?? '';
    try {
      const url = new URL(target, origin);
      const match = table.match(c.req.method, url.pathname);
      if (!match) throw new BgError(404, 'RESOURCE_UNKNOWN', `no operation ${c.req.method} ${url.pathname} at this bank`);
      const headers = c.req.raw.headers;
      const missing = missingParams(match.route, headers, url.searchParams);
      if (missing.length > 0) throw new BgError(400, 'FORMAT_ERROR', `missing or invalid ${missing.join(', ')}`);
      if (!UUID.test(requestId)) throw new BgError(400, 'FORMAT_ERROR', 'X-Request-ID must be a UUID', { path: 'X-Request-ID' });

      const certificate = peerCertificate(c.env.incoming.socket);
      const tppId = certificate && tppIdOf(certificate);
      if (!certificate || !tppId) throw new BgError(401, 'CERTIFICATE_INVALID', 'the client certificate carries no organizationIdentifier (eIDAS QWAC)');
      let token: Promise<BgToken | undefined> | undefined;
      const lazyToken = () => (token ??= verifiedToken(headers.get('authorization'), certificate, tppId));

      const raw = new Uint8Array(await c.req.arrayBuffer());
      let body: Record<string, unknown> = {};
      if (raw.length > 0) {
        if (!(headers.get('content-type') ?? '').toLowerCase().startsWith('application/json')) {
          throw new BgError(415, 'FORMAT_ERROR', 'this bank takes JSON bodies only (Content-Type: application/json)');
        }
        try {
          body = JSON.parse(Buffer.from(raw).toString('utf8')) as Record<string, unknown>;
        } catch {
          throw new BgError(400, 'FORMAT_ERROR', 'the body is not JSON');
        }
        if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new BgError(400, 'FORMAT_ERROR', 'the body must be a JSON object');
      }
      const handler = operations[match.route.operationId];
      if (!handler) throw new BgError(405, 'SERVICE_INVALID', `${match.route.operationId}: this bank does not offer the service`);
      return await handler({ match, params: match.params, url, headers, body, tppId, token: lazyToken, requestId });
    } catch (error) {
      if (error instanceof BgError) return bgErrorResponse(error, requestId || null);
      throw error;
    }
  }

  return createBankRequestListener({
    bank: 'bg',
    // Faults (`status`) and unexpected errors, in the bank's own words.
    error: (_kind, status, message) => bgErrorResponse(new BgError(status, FAULT_CODES[status] ?? (status >= 500 ? 'INTERNAL_SERVER_ERROR' : 'FORMAT_ERROR'), message), null),
    stats: options.stats,
    faults: options.faults,
    run: (c, target) => run(c, target),
  });
}

const FAULT_CODES: Readonly<Record<number, BgErrorCode>> = {
  401: 'TOKEN_INVALID',
  403: 'CONSENT_UNKNOWN',
  404: 'RESOURCE_UNKNOWN',
  409: 'STATUS_INVALID',
  429: 'ACCESS_EXCEEDED',
  503: 'SERVICE_UNAVAILABLE',
};

function certificateThumbprintOf(certificate: X509Certificate): string {
  return Buffer.from(certificate.fingerprint256.replace(/:/g, ''), 'hex').toString('base64url');
}

/** The operations by operationId. */
function bgOperations(bank: BgBank, basePath: string, origin: string, validateBody: BodyValidator): Record<string, Handler> {
  const consentsPointer = '/components/requestBodies/consents/content/application~1json/schema';
  const bodyPointer = (path: string, method: 'post' | 'put') => `/paths/${pointerSegment(path)}/${method}/requestBody/content/application~1json/schema`;
  const approachHeader = (subject: ScaSubject) => ({ 'aspsp-sca-approach': subject.approach === 'OAUTH' ? 'REDIRECT' : subject.approach });

  /** The consent of a read: known, valid, and with its OAuth token when OAuth SCA bound one to it. */
  async function readingConsent(request: BgRequest): Promise<Consent> {
    const consent = bank.consentOf(request.tppId, request.headers.get('consent-id'));
    consent.checkValid();
    if (consent.oauth) {
      const token = await request.token();
      if (!token) throw new BgError(401, 'TOKEN_INVALID', 'this consent was authorised through OAuth: send its access token');
      const bound = consent.oauth.kind === 'integrated' ? token.scopes.has(consent.oauthScope) : token.grantId === consent.oauth.grantId;
      if (!bound) throw new BgError(401, 'TOKEN_INVALID', `the access token does not cover this consent (it needs scope ${consent.oauthScope})`);
    }
    return consent;
  }

  function accountOf(consent: Consent, id: string | undefined): SandboxAccount {
    const account = findBgPsu(consent.psuId)?.accounts.find((a) => a.resourceId === id);
    if (!account) throw new BgError(403, 'RESOURCE_UNKNOWN', `account ${id} is unknown for this consent's PSU`);
    return account;
  }

  /** Counts the read against the consent's frequencyPerDay unless the PSU is present (PSU-IP-Address). */
  function count(request: BgRequest, consent: Consent, account?: SandboxAccount): void {
    consent.countRead(`${request.match.route.operationId}${account ? `:${account.resourceId}` : ''}`, request.headers.get('psu-ip-address') !== null);
  }

  function accountDetails(consent: Consent, account: SandboxAccount, withBalance: boolean) {
    const self = `${basePath}/v1/accounts/${account.resourceId}`;
    const links: Record<string, { href: string }> = {};
    if (consent.mayReadBalances(account)) links.balances = { href: `${self}/balances` };
    if (consent.mayReadTransactions(account)) links.transactions = { href: `${self}/transactions` };
    return {
      resourceId: account.resourceId,
      iban: account.iban,
      currency: account.currency,
      name: account.name,
      product: account.product,
      cashAccountType: account.cashAccountType,
      status: 'enabled',
      bic: account.bic,
      usage: account.usage,
      ...(withBalance && consent.mayReadBalances(account) ? { balances: balances(account, bank.clock.today()) } : {}),
      _links: links,
    };
  }

  function scaStart(subject: ScaSubject, request: BgRequest, pointer: string): Response {
    validateBody(pointer, request.body);
    const body = bank.sca.start(subject, { psuIdHeader: request.headers.get('psu-id'), body: request.body });
    return json(request, 201, body, { location: `${origin}${subject.authorisationsPath}/${body.authorisationId}`, ...approachHeader(subject) });
  }

  function scaUpdate(subject: ScaSubject, request: BgRequest, pointer: string): Response {
    validateBody(pointer, request.body);
    const authorisation = bank.authorisationOf(subject, request.params.authorisationId);
    return json(request, 200, bank.sca.update(subject, authorisation, { psuIdHeader: request.headers.get('psu-id'), body: request.body }), approachHeader(subject));
  }

  const payment = (request: BgRequest) =>
    bank.paymentOf(request.tppId, request.params['payment-service'], request.params['payment-product'], request.params.paymentId);
  const refused = (what: string): Handler => () => {
    throw new BgError(405, 'SERVICE_INVALID', `this bank does not offer ${what}`);
  };

  return {
    async createConsent(request) {
      validateBody(consentsPointer, request.body);
      const created = bank.createConsent(request.tppId, request.body as unknown as ConsentRequest, request.headers, await request.token());
      return json(request, 201, created.body, { location: `${origin}${created.subject.selfPath}`, 'aspsp-sca-approach': created.approachHeader });
    },
    getConsentInformation(request) {
      const consent = bank.consentOf(request.tppId, request.params.consentId);
      const psu = findBgPsu(consent.psuId);
      const links = psu && consent.status === 'valid' && consent.listed(psu).length > 0 ? { _links: { account: { href: `${basePath}/v1/accounts` } } } : {};
      return json(request, 200, {
        access: consent.grantedAccess(),
        recurringIndicator: consent.request.recurringIndicator,
        validUntil: consent.granted.validUntil,
        frequencyPerDay: consent.granted.frequencyPerDay,
        lastActionDate: consent.lastActionDate,
        consentStatus: consent.status,
        ...links,
      });
    },
    getConsentStatus(request) {
      const consent = bank.consentOf(request.tppId, request.params.consentId);
      bank.sca.readSubject(consent);
      return json(request, 200, { consentStatus: consent.status });
    },
    deleteConsent(request) {
      const consent = bank.consentOf(request.tppId, request.params.consentId);
      if (consent.isTerminal()) throw new BgError(409, 'STATUS_INVALID', `the consent is ${consent.status} already`);
      consent.end('terminatedByTpp', 'deleted by the TPP');
      return new Response(null, { status: 204, headers: { 'x-request-id': request.requestId } });
    },
    startConsentAuthorisation(request) {
      return scaStart(bank.consentOf(request.tppId, request.params.consentId), request, bodyPointer('/v1/consents/{consentId}/authorisations', 'post'));
    },
    getConsentAuthorisation(request) {
      const consent = bank.consentOf(request.tppId, request.params.consentId);
      return json(request, 200, { authorisationIds: consent.authorisations.map((a) => a.authorisationId) });
    },
    getConsentScaStatus(request) {
      const consent = bank.consentOf(request.tppId, request.params.consentId);
      return json(request, 200, bank.sca.read(consent, bank.authorisationOf(consent, request.params.authorisationId)));
    },
    updateConsentsPsuData(request) {
      return scaUpdate(
        bank.consentOf(request.tppId, request.params.consentId),
        request,
        bodyPointer('/v1/consents/{consentId}/authorisations/{authorisationId}', 'put'),
      );
    },

    async getAccountList(request) {
      const consent = await readingConsent(request);
      const withBalance = request.url.searchParams.get('withBalance') === 'true';
      consent.checkRight('list', undefined, withBalance);
      count(request, consent);
      const accounts = consent.listed(findBgPsu(consent.psuId)!);
      return json(request, 200, { accounts: accounts.map((a) => accountDetails(consent, a, withBalance)) });
    },
    async readAccountDetails(request) {
      const consent = await readingConsent(request);
      const account = accountOf(consent, request.params['account-id']);
      const withBalance = request.url.searchParams.get('withBalance') === 'true';
      consent.checkRight('details', account, withBalance);
      count(request, consent, account);
      return json(request, 200, { account: accountDetails(consent, account, withBalance) });
    },
    async getBalances(request) {
      const consent = await readingConsent(request);
      const account = accountOf(consent, request.params['account-id']);
      consent.checkRight('balances', account);
      count(request, consent, account);
      return json(request, 200, { account: { iban: account.iban, currency: account.currency }, balances: balances(account, bank.clock.today()) });
    },
    async getTransactionList(request) {
      const consent = await readingConsent(request);
      const account = accountOf(consent, request.params['account-id']);
      consent.checkRight('transactions', account);
      const query = request.url.searchParams;
      const status = query.get('bookingStatus')!;
      if (status === 'information' || status === 'all') throw new BgError(400, 'PARAMETER_NOT_SUPPORTED', `bookingStatus ${status} is not supported: booked, pending or both`, { path: 'bookingStatus' });
      const from = query.get('dateFrom');
      const to = query.get('dateTo') ?? '9999-12-31';
      if (from === null && query.get('deltaList') !== 'true') throw new BgError(400, 'FORMAT_ERROR', 'dateFrom is required (no delta access)', { path: 'dateFrom' });
      if (from !== null && !/^\d{4}-\d{2}-\d{2}$/.test(from)) throw new BgError(400, 'FORMAT_ERROR', 'dateFrom must be a date (YYYY-MM-DD)', { path: 'dateFrom' });
      count(request, consent, account);
      const inRange = account.transactions.filter((t) => t.bookingDate >= (from ?? '0000-00-00') && t.bookingDate <= to);
      const pick = (kind: 'booked' | 'pending') => inRange.filter((t) => t.status === kind).map((t) => transaction(account, t));
      const withBalance = query.get('withBalance') === 'true' && consent.mayReadBalances(account);
      return json(request, 200, {
        account: { iban: account.iban, currency: account.currency },
        transactions: {
          ...(status !== 'pending' ? { booked: pick('booked') } : {}),
          ...(status !== 'booked' ? { pending: pick('pending') } : {}),
          _links: { account: { href: `${basePath}/v1/accounts/${account.resourceId}` } },
        },
        ...(withBalance ? { balances: balances(account, bank.clock.today()) } : {}),
      });
    },
    async getTransactionDetails(request) {
      const consent = await readingConsent(request);
      const account = accountOf(consent, request.params['account-id']);
      consent.checkRight('transactions', account);
      const found = account.transactions.find((t) => t.id === request.params.transactionId);
      if (!found) throw new BgError(403, 'RESOURCE_UNKNOWN', `no transaction ${request.params.transactionId} on this account`);
      count(request, consent, account);
      return json(request, 200, { transactionsDetails: transaction(account, found) });
    },

    async initiatePayment(request) {
      const service = request.params['payment-service']!;
      const pointer = service === 'periodic-payments' ? '/components/schemas/periodicPaymentInitiation_json' : '/components/schemas/paymentInitiation_json';
      if (service === 'payments' || service === 'periodic-payments') validateBody(pointer, request.body);
      const created = bank.createPayment(
        request.tppId,
        service,
        request.params['payment-product']!,
        request.body as unknown as PaymentInitiation,
        request.headers,
        await request.token(),
      );
      return json(request, 201, created.body, { location: `${origin}${created.subject.selfPath}`, 'aspsp-sca-approach': created.approachHeader });
    },
    getPaymentInformation(request) {
      const found = payment(request);
      return json(request, 200, { ...found.initiation, transactionStatus: found.transactionStatus });
    },
    getPaymentInitiationStatus(request) {
      const found = payment(request);
      bank.sca.readSubject(found);
      return json(request, 200, {
        transactionStatus: found.transactionStatus,
        ...(found.fundsAvailable !== undefined ? { fundsAvailable: found.fundsAvailable } : {}),
        ...(found.psuMessage ? { psuMessage: found.psuMessage } : {}),
      });
    },
    cancelPayment(request) {
      payment(request).cancel();
      return new Response(null, { status: 204, headers: { 'x-request-id': request.requestId } });
    },
    startPaymentAuthorisation(request) {
      return scaStart(payment(request), request, bodyPointer('/v1/{payment-service}/{payment-product}/{paymentId}/authorisations', 'post'));
    },
    getPaymentInitiationAuthorisation(request) {
      return json(request, 200, { authorisationIds: payment(request).authorisations.map((a) => a.authorisationId) });
    },
    getPaymentInitiationScaStatus(request) {
      const found = payment(request);
      return json(request, 200, bank.sca.read(found, bank.authorisationOf(found, request.params.authorisationId)));
    },
    updatePaymentPsuData(request) {
      return scaUpdate(payment(request), request, bodyPointer('/v1/{payment-service}/{payment-product}/{paymentId}/authorisations/{authorisationId}', 'put'));
    },
    startPaymentInitiationCancellationAuthorisation: refused('cancellation authorisations: a payment is cancelled by DELETE while it can be'),
    getPaymentInitiationCancellationAuthorisationInformation: refused('cancellation authorisations'),
    getPaymentCancellationScaStatus: refused('cancellation authorisations'),
    updatePaymentCancellationPsuData: refused('cancellation authorisations'),

    checkAvailabilityOfFunds(request) {
      validateBody('/components/requestBodies/confirmationOfFunds/content/application~1json/schema', request.body);
      const body = request.body as { account: { iban?: string }; instructedAmount: { currency: string; amount: string } };
      const account = BG_PSUS.flatMap((psu) => psu.accounts).find((a) => a.iban === body.account.iban);
      if (!account) throw new BgError(400, 'FORMAT_ERROR', 'account is not an account of this bank', { path: 'account' });
      const fundsAvailable = body.instructedAmount.currency === account.currency && Number(body.instructedAmount.amount) <= Number(account.available);
      return json(request, 200, { fundsAvailable });
    },
    getCardAccountList: refused('card accounts'),
    readCardAccountDetails: refused('card accounts'),
    getCardAccountBalances: refused('card accounts'),
    getCardAccountTransactionList: refused('card accounts'),
    listOfTrustedBeneficiaries: refused('trusted beneficiaries'),
    createSigningBasket: refused('signing baskets'),
    getSigningBasket: refused('signing baskets'),
    deleteSigningBasket: refused('signing baskets'),
    getSigningBasketStatus: refused('signing baskets'),
    startSigningBasketAuthorisation: refused('signing baskets'),
    getSigningBasketAuthorisation: refused('signing baskets'),
    updateSigningBasketPsuData: refused('signing baskets'),
    getSigningBasketScaStatus: refused('signing baskets'),
  };
}
