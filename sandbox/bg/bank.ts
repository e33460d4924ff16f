/**
 * The Berlin-Group-like bank's state and rules: its consents and payments, the SCA approach it chooses for each,
 * the OAuth pre-step, the supersession of recurring consents, and what the PSU and the control plane do to them.
 * The resource server (resource-server.ts), the bank's pages (online-banking.ts) and the control plane (control.ts)
 * all act through this class; none of them decides a rule itself.
 *
 * The SCA approach, chosen per consent or payment from what the TPP sends and the PSU's profile (psus.ts):
 *   1. an OAuth access token (scope `AIS` / `PIS`) came with the request: the OAuth pre-step. A consent is valid
 *      at once (the PSU's SCA was the pre-step login); a payment still needs its transaction authorisation
 *      through OAuth (`scaOAuth`, scope `PIS:<paymentId>`);
 *   2. `PSU-ID` names a PSU of the corporate portal and no token came: 401 TOKEN_INVALID, `_links.scaOAuth`;
 *   3. `TPP-Decoupled-Preferred: true` (and no `TPP-Redirect-Preferred: true`), the PSU has the app: DECOUPLED;
 *   4. `TPP-Redirect-Preferred: false`: EMBEDDED if the PSU has an OTP method, else DECOUPLED if the app, else (5);
 *   5. otherwise a redirect, the PSU's variant: OAUTH (`scaOAuth`) for PSUs of the OAuth platform, else REDIRECT.
 * Without `PSU-ID` the bank does not know the PSU's profile: every approach is possible, the redirect is plain.
 * `TPP-Explicit-Authorisation-Preferred: true` makes the TPP start the authorisation (`startAuthorisation…` links).
 */
import { randomUUID } from 'node:crypto';
import { BankClock } from './clock.js';
import { checkConsentRequest, Consent, isBankOffered, type ConsentLimits, type ConsentRequest } from './consents.js';
import { BgError } from './errors.js';
import { Payment, PAYMENT_PRODUCTS, PAYMENT_SERVICES, type PaymentInitiation, type PaymentService } from './payments.js';
import { findBgPsu, type BgPsu } from './psus.js';
import { booleanHeader, ScaEngine, type Authorisation, type ScaApproach, type ScaBody, type ScaSettings, type ScaSubject } from './sca.js';

export interface BgSettings extends ScaSettings, ConsentLimits {
  /** ACSP → ACSC after this long (non-instant credit transfers). */
  readonly settlementMs: number;
}

export const DEFAULT_BG_SETTINGS: BgSettings = {
  decoupledApprovalMs: 3_000,
  decoupledPollIntervalMs: 1_000,
  decoupledTimeoutMs: 300_000,
  redirectLinkTtlMs: 600_000,
  maxFrequencyPerDay: 4,
  maxValidityDays: 180,
  settlementMs: 2_000,
};

/** A PSU's OAuth access token as the resource server verified it. */
export interface BgToken {
  readonly psuId: string;
  readonly scopes: ReadonlySet<string>;
  readonly grantId: string;
}

/** The answer to a consent or payment creation: its 201 body and the `ASPSP-SCA-Approach` header. */
export interface Created<T> {
  readonly subject: T;
  readonly body: Record<string, unknown>;
  readonly approachHeader: 'REDIRECT' | 'DECOUPLED' | 'EMBEDDED';
}

export interface BgBankUrls {
  /** The bank's web pages (scaRedirect, the OAuth login): the authorization server's front host. */
  readonly onlineBanking: string;
  /** RFC 8414 metadata of the bank's OAuth server: the `scaOAuth` link. */
  readonly oauthMetadata: string;
  /** The resource server's path prefix (`/psd2`), for `_links`. */
  readonly basePath: string;
  /** Redirect URIs the TPP may use beyond loopback ones (`SANDBOX_REDIRECT_URIS`): matched by origin. */
  readonly extraRedirectUris: readonly string[];
}

export const BANK_NAME = 'BG Sandbank';

function headerValue(uri: string | null, name: string, allowed: (uri: URL) => boolean): string | undefined {
  if (uri === null) return undefined;
  let parsed: URL;
  try {
    parsed = new URL(uri);
  } catch {
    throw new BgError(400, 'FORMAT_ERROR', `${name} must be an absolute URI`, { path: name });
  }
  if (!allowed(parsed)) {
    throw new BgError(400, 'FORMAT_ERROR', `${name} is not a domain registered for this TPP (loopback, or SANDBOX_REDIRECT_URIS)`, { path: name });
  }
  return parsed.href;
}

export class BgBank {
  readonly clock = new BankClock();
  readonly sca: ScaEngine;
  readonly consents = new Map<string, Consent>();
  readonly payments = new Map<string, Payment>();

  constructor(
    readonly settings: BgSettings,
    private readonly urls: BgBankUrls,
    /** Revokes an OAuth grant (its access and refresh tokens) at the authorization server. */
    private readonly revokeGrant: (grantId: string) => Promise<void>,
  ) {
    this.sca = new ScaEngine(this.clock, settings, { onlineBanking: urls.onlineBanking, oauthMetadata: urls.oauthMetadata, bankName: BANK_NAME });
  }

  /** The bank's choice of SCA approach for a PSU it may know (see the header of this file). */
  chooseApproach(headers: Headers, psu: BgPsu | undefined): ScaApproach {
    const redirectPreferred = booleanHeader(headers, 'tpp-redirect-preferred');
    const decoupledPreferred = booleanHeader(headers, 'tpp-decoupled-preferred');
    const canDecoupled = !psu || psu.app;
    const canEmbedded = !psu || psu.embeddedMethods.length > 0;
    const redirect: ScaApproach = psu?.onlineBanking === 'oauth' ? 'OAUTH' : 'REDIRECT';
    if (decoupledPreferred === true && redirectPreferred !== true && canDecoupled) return 'DECOUPLED';
    if (redirectPreferred === false) {
      if (canEmbedded && decoupledPreferred !== true) return 'EMBEDDED';
      if (canDecoupled) return 'DECOUPLED';
      if (canEmbedded) return 'EMBEDDED';
    }
    return redirect;
  }

  /** `POST /v1/consents`. */
  createConsent(tppId: string, request: ConsentRequest, headers: Headers, token: BgToken | undefined): Created<Consent> {
    const granted = checkConsentRequest(request, this.clock, this.settings);
    const explicit = booleanHeader(headers, 'tpp-explicit-authorisation-preferred') === true;
    const hooks = { onValid: (consent: Consent) => this.#supersede(consent), onEnd: (consent: Consent) => this.#revokeGrants(consent) };
    const id = randomUUID();

    if (token) {
      // OAuth pre-step: the PSU authenticated strongly at the bank's OAuth server before the TPP came here.
      const psu = this.#preStepPsu(token, 'AIS', headers);
      const consent = new Consent(id, tppId, request, granted, 'OAUTH', { ok: undefined, nok: undefined }, this.clock, hooks, this.urls.basePath);
      const refused = consent.refuse(psu);
      if (refused) throw new BgError(400, 'FORMAT_ERROR', refused, { path: 'access' });
      // The pre-step grant is the PSU's login, not this consent's: it outlives the consent (not in grantIds).
      consent.oauth = { kind: 'pre-step', grantId: token.grantId };
      consent.psuId = psu.id;
      this.consents.set(id, consent);
      consent.complete(psu, undefined);
      return {
        subject: consent,
        approachHeader: 'REDIRECT',
        body: { consentStatus: consent.status, consentId: id, _links: { self: { href: consent.selfPath }, status: { href: consent.statusPath } } },
      };
    }

    const psu = this.#headerPsu(headers);
    const approach = this.chooseApproach(headers, psu);
    if (approach === 'EMBEDDED' && isBankOffered(request.access)) {
      throw new BgError(400, 'PARAMETER_NOT_SUPPORTED', 'a consent that names no account needs the PSU at the bank: not with the embedded approach (name the accounts, or prefer a redirect)', {
        path: 'access',
      });
    }
    const consent = new Consent(id, tppId, request, granted, approach, this.#redirectUris(headers, approach), this.clock, hooks, this.urls.basePath);
    consent.psuId = psu?.id;
    if (approach === 'OAUTH') consent.oauth = { kind: 'integrated', grantId: undefined };
    this.consents.set(id, consent);
    const { body } = this.sca.initiation(consent, { explicit });
    return { subject: consent, approachHeader: approach === 'OAUTH' ? 'REDIRECT' : approach, body: { consentStatus: consent.status, consentId: id, ...body } };
  }

  /** `POST /v1/{payment-service}/{payment-product}`. */
  createPayment(tppId: string, service: string, product: string, initiation: PaymentInitiation, headers: Headers, token: BgToken | undefined): Created<Payment> {
    if (!PAYMENT_SERVICES.includes(service as PaymentService)) {
      throw new BgError(405, 'SERVICE_INVALID', `this bank offers ${PAYMENT_SERVICES.join(' and ')}, not ${service}`);
    }
    if (!(PAYMENT_PRODUCTS as readonly string[]).includes(product)) {
      throw new BgError(404, 'PRODUCT_UNKNOWN', `this bank offers the JSON products ${PAYMENT_PRODUCTS.join(', ')}, not ${product}`);
    }
    if (typeof initiation.debtorAccount?.iban !== 'string') throw new BgError(400, 'FORMAT_ERROR', 'debtorAccount.iban is required by this bank', { path: 'debtorAccount' });
    if (typeof initiation.creditorAccount?.iban !== 'string') throw new BgError(400, 'FORMAT_ERROR', 'creditorAccount.iban is required by this bank', { path: 'creditorAccount' });
    const today = this.clock.today();
    if (initiation.requestedExecutionDate !== undefined && initiation.requestedExecutionDate < today) {
      throw new BgError(400, 'FORMAT_ERROR', 'requestedExecutionDate is in the past', { path: 'requestedExecutionDate' });
    }
    const explicit = booleanHeader(headers, 'tpp-explicit-authorisation-preferred') === true;
    const id = randomUUID();
    let psu: BgPsu | undefined;
    let approach: ScaApproach;
    if (token) {
      // Pre-step: the PSU is known; the transaction itself is authorised through OAuth (dynamic linking).
      psu = this.#preStepPsu(token, 'PIS', headers);
      approach = 'OAUTH';
    } else {
      psu = this.#headerPsu(headers);
      approach = this.chooseApproach(headers, psu);
    }
    const payment = new Payment(
      id,
      tppId,
      service as PaymentService,
      product,
      initiation,
      approach,
      this.#redirectUris(headers, approach),
      this.clock,
      this.settings.settlementMs,
      this.urls.basePath,
    );
    payment.psuId = psu?.id;
    this.payments.set(id, payment);
    const { body } = this.sca.initiation(payment, { explicit });
    return { subject: payment, approachHeader: approach === 'OAUTH' ? 'REDIRECT' : approach, body: { transactionStatus: payment.transactionStatus, paymentId: id, ...body } };
  }

  /** A consent of this TPP (403 CONSENT_UNKNOWN otherwise), with time applied. */
  consentOf(tppId: string, consentId: string | null | undefined): Consent {
    const consent = consentId ? this.consents.get(consentId) : undefined;
    if (!consent || consent.tppId !== tppId) throw new BgError(403, 'CONSENT_UNKNOWN', 'the Consent-ID is unknown to this bank for this TPP');
    consent.settle();
    this.sca.settle(consent);
    return consent;
  }

  /** A payment of this TPP under this service and product (403 RESOURCE_UNKNOWN otherwise), with time applied. */
  paymentOf(tppId: string, service: string | undefined, product: string | undefined, paymentId: string | undefined): Payment {
    const payment = paymentId ? this.payments.get(paymentId) : undefined;
    if (!payment || payment.tppId !== tppId || payment.service !== service || payment.product !== product) {
      throw new BgError(403, 'RESOURCE_UNKNOWN', 'the paymentId is unknown to this bank for this TPP, service and product');
    }
    this.sca.settle(payment);
    payment.settle();
    return payment;
  }

  authorisationOf(subject: ScaSubject, authorisationId: string | undefined): Authorisation {
    const authorisation = subject.authorisations.find((a) => a.authorisationId === authorisationId);
    if (!authorisation) throw new BgError(403, 'RESOURCE_UNKNOWN', `no authorisation ${authorisationId} for this ${subject.kind}`);
    return authorisation;
  }

  /** The consent or payment an OAuth scope names (`AIS:<consentId>`, `PIS:<paymentId>`). */
  subjectOfScope(scope: string): ScaSubject | undefined {
    const [service, id] = scope.split(':');
    if (!id) return undefined;
    if (service === 'AIS') return this.consents.get(id);
    if (service === 'PIS') return this.payments.get(id);
    return undefined;
  }

  /** Any consent's or payment's authorisation by id (control plane: the PSU's app). */
  findAuthorisation(authorisationId: string): { subject: ScaSubject; authorisation: Authorisation } | undefined {
    for (const subject of [...this.consents.values(), ...this.payments.values()]) {
      const authorisation = subject.authorisations.find((a) => a.authorisationId === authorisationId);
      if (authorisation) return { subject, authorisation };
    }
    return undefined;
  }

  /** The PSU's app decides a decoupled SCA (control plane). */
  decideInApp(authorisationId: string, decision: 'approve' | 'reject'): ScaBody {
    const found = this.findAuthorisation(authorisationId);
    if (!found) throw new BgError(404, 'RESOURCE_UNKNOWN', `no authorisation ${authorisationId}`);
    this.sca.settle(found.subject);
    this.sca.decideInApp(found.subject, found.authorisation, decision);
    return { scaStatus: found.authorisation.scaStatus, _links: {} };
  }

  /** The PSU revokes a consent in its online banking (control plane). */
  revokeByPsu(consentId: string): Consent {
    const consent = this.#anyConsent(consentId);
    if (consent.status !== 'valid') throw new BgError(409, 'STATUS_INVALID', `only a valid consent can be revoked; this one is ${consent.status}`);
    consent.end('revokedByPsu', 'the PSU revoked it in the online banking');
    return consent;
  }

  /** Expires a consent now, as if its validUntil had passed (control plane). */
  expireNow(consentId: string): Consent {
    const consent = this.#anyConsent(consentId);
    if (consent.isTerminal()) throw new BgError(409, 'STATUS_INVALID', `the consent is ${consent.status} already`);
    consent.end('expired', 'expired by the sandbox control plane');
    return consent;
  }

  #anyConsent(consentId: string): Consent {
    const consent = this.consents.get(consentId);
    if (!consent) throw new BgError(404, 'CONSENT_UNKNOWN', `no consent ${consentId}`);
    consent.settle();
    return consent;
  }

  /** The PSU of a pre-step token, which must carry the service's generic scope and match `PSU-ID` when sent. */
  #preStepPsu(token: BgToken, service: 'AIS' | 'PIS', headers: Headers): BgPsu {
    if (!token.scopes.has(service)) {
      throw new BgError(401, 'TOKEN_INVALID', `this request needs an OAuth pre-step token with scope ${service}, not ${[...token.scopes].join(' ') || 'none'}`);
    }
    const psu = findBgPsu(token.psuId)!;
    const header = headers.get('psu-id');
    if (header !== null && header !== psu.id) throw new BgError(401, 'TOKEN_INVALID', "PSU-ID is not the PSU of the access token");
    return psu;
  }

  /** The PSU `PSU-ID` names, if any; a corporate PSU needs the OAuth pre-step first. */
  #headerPsu(headers: Headers): BgPsu | undefined {
    const id = headers.get('psu-id');
    if (id === null) return undefined;
    const psu = findBgPsu(id);
    if (!psu) throw new BgError(401, 'PSU_CREDENTIALS_INVALID', 'PSU-ID is not a customer of this bank');
    if (psu.onlineBanking === 'oauth-pre-step') {
      throw new BgError(401, 'TOKEN_INVALID', "this PSU's access needs an OAuth access token first (pre-step): authorise at the bank's OAuth server, then send the token", {
        links: { scaOAuth: { href: this.urls.oauthMetadata } },
      });
    }
    return psu;
  }

  #redirectUris(headers: Headers, approach: ScaApproach): { ok: string | undefined; nok: string | undefined } {
    const allowed = (uri: URL) =>
      ['127.0.0.1', 'localhost', '[::1]'].includes(uri.hostname) || this.urls.extraRedirectUris.some((extra) => new URL(extra).origin === uri.origin);
    const ok = headerValue(headers.get('tpp-redirect-uri'), 'TPP-Redirect-URI', allowed);
    const nok = headerValue(headers.get('tpp-nok-redirect-uri'), 'TPP-Nok-Redirect-URI', allowed);
    if (approach === 'REDIRECT' && ok === undefined) {
      throw new BgError(400, 'FORMAT_ERROR', 'TPP-Redirect-URI is required: the bank chose the redirect SCA approach', { path: 'TPP-Redirect-URI' });
    }
    return { ok, nok };
  }

  /** "The former consent automatically expires as soon as the new consent request is authorised by the PSU" (createConsent). */
  #supersede(consent: Consent): void {
    if (!consent.request.recurringIndicator) return;
    for (const other of this.consents.values()) {
      if (other === consent || other.tppId !== consent.tppId || other.psuId !== consent.psuId) continue;
      if (other.request.recurringIndicator && other.status === 'valid') other.end('expired', `superseded by the recurring consent ${consent.id}`);
    }
  }

  #revokeGrants(consent: Consent): void {
    for (const grantId of consent.grantIds) void this.revokeGrant(grantId).catch(() => {});
  }
}
