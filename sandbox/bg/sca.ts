/**
 * The bank's SCA: authorisation sub-resources of a consent or a payment (`…/authorisations/{authorisationId}`)
 * and their steps for each approach, as the Berlin Group 1.3.9 spec and its Implementation Guidelines describe:
 *
 *   REDIRECT   received → (PSU at the scaRedirect page) unconfirmed → (TPP PUT confirmationCode) finalised
 *   OAUTH      received → (PSU at the OAuth server, scope AIS:/PIS:<id>) finalised
 *   DECOUPLED  started (psuMessage) → (PSU in the app, or the app's automatic approval) finalised | failed
 *   EMBEDDED   psuIdentified → (PUT psuData.password) psuAuthenticated [→ PUT authenticationMethodId]
 *              → scaMethodSelected (challengeData) → (PUT scaAuthenticationData) finalised
 *
 * A failed SCA fails its subject (consent `rejected`, payment `RJCT`). Time is the bank's clock.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import type { BankClock } from './clock.js';
import { BgError } from './errors.js';
import { findBgPsu, SANDBOX_OTP, SANDBOX_PASSWORD, type BgPsu, type ScaMethod } from './psus.js';

/** The approach the bank chose for a consent or payment. OAUTH is Berlin Group's "OAuth2 SCA", subsumed by REDIRECT. */
export type ScaApproach = 'REDIRECT' | 'OAUTH' | 'DECOUPLED' | 'EMBEDDED';

export type ScaStatus =
  | 'received'
  | 'psuIdentified'
  | 'psuAuthenticated'
  | 'scaMethodSelected'
  | 'started'
  | 'unconfirmed'
  | 'finalised'
  | 'failed'
  | 'exempted';

const FINAL: ReadonlySet<ScaStatus> = new Set(['finalised', 'failed', 'exempted']);
/** Wrong passwords, OTPs or confirmation codes before the authorisation fails. */
const MAX_FAILURES = 3;

export interface Authorisation {
  readonly authorisationId: string;
  readonly approach: ScaApproach;
  readonly createdAt: number;
  scaStatus: ScaStatus;
  psuId: string | undefined;
  failures: number;
  /** REDIRECT: the opaque id in the scaRedirect link, when it stops working, the code the PSU brings back. */
  redirect?: { readonly id: string; readonly expiresAt: number; confirmationCode?: string; selection?: readonly string[] };
  /** DECOUPLED: when the PSU's app approves by itself, when nobody answering fails it, the last status read. */
  decoupled?: { approveAt: number | undefined; readonly timeoutAt: number; lastPollAt?: number; statusPollAt?: number };
  /** EMBEDDED: the chosen OTP method. */
  method?: ScaMethod;
  psuMessage?: string;
}

/** A consent or a payment, as the SCA sees it. */
export interface ScaSubject {
  readonly kind: 'consent' | 'payment';
  readonly id: string;
  /** The TPP (its QWAC's organizationIdentifier) that created it. */
  readonly tppId: string;
  readonly approach: ScaApproach;
  /** `/psd2/v1/consents/<id>`, `/psd2/v1/payments/<product>/<id>`. */
  readonly selfPath: string;
  /** `<selfPath>/authorisations` (`/cancellation-authorisations` for a payment's cancellation). */
  readonly authorisationsPath: string;
  readonly statusPath: string;
  readonly redirectUris: { readonly ok: string | undefined; readonly nok: string | undefined };
  /** `AIS:<consentId>` / `PIS:<paymentId>`. */
  readonly oauthScope: string;
  /** The PSU: fixed by `PSU-ID` or a pre-step token at creation, else by the first identification. */
  psuId: string | undefined;
  readonly authorisations: Authorisation[];
  /** OAuth grants issued for it (`AIS:<id>` / `PIS:<id>` tokens), revoked when a consent ends. */
  readonly grantIds: Set<string>;
  /** A new authorisation may start (consent `received`, payment `RCVD`). */
  isOpen(): boolean;
  /** Why this PSU cannot authorise it (not the debtor account's owner, …); undefined when it can. */
  refuse(psu: BgPsu): string | undefined;
  /** SCA succeeded: the consent becomes valid (with the accounts the PSU picked), the payment executes. */
  complete(psu: BgPsu, selection: readonly string[] | undefined): void;
  /** SCA failed: consent `rejected`, payment `RJCT`. */
  fail(reason: string): void;
  /** Lines the bank's pages and app show the PSU. */
  describe(): string[];
}

export interface ScaSettings {
  /** The PSU's app approves a decoupled SCA this long after it started; 0 never (control plane only). */
  readonly decoupledApprovalMs: number;
  /** Minimum gap between two reads of a running decoupled SCA's status (and of its subject's status). */
  readonly decoupledPollIntervalMs: number;
  /** A decoupled SCA nobody answers fails after this. */
  readonly decoupledTimeoutMs: number;
  /** How long a scaRedirect link works. */
  readonly redirectLinkTtlMs: number;
}

type Links = Record<string, { href: string }>;

export interface ScaBody {
  scaStatus?: ScaStatus;
  authorisationId?: string;
  psuMessage?: string;
  scaMethods?: ScaMethod[];
  chosenScaMethod?: ScaMethod;
  challengeData?: { otpMaxLength: number; otpFormat: 'integer'; additionalInformation: string };
  _links: Links;
}

const CHALLENGE = { otpMaxLength: 6, otpFormat: 'integer' as const, additionalInformation: 'Enter the 6-digit TAN we sent you.' };

function href(path: string): { href: string } {
  return { href: path };
}

/** Parses a `TPP-*-Preferred` / boolean header: absent → undefined, else exactly `true` or `false`. */
export function booleanHeader(headers: Headers, name: string): boolean | undefined {
  const raw = headers.get(name);
  if (raw === null) return undefined;
  if (raw === 'true') return true;
  if (raw === 'false') return false;
  throw new BgError(400, 'FORMAT_ERROR', `${name} must be true or false`, { path: name });
}

export class ScaEngine {
  /** redirect id → the authorisation it belongs to. */
  readonly #redirects = new Map<string, { subject: ScaSubject; authorisation: Authorisation }>();

  constructor(
    private readonly clock: BankClock,
    private readonly settings: ScaSettings,
    private readonly urls: { readonly onlineBanking: string; readonly oauthMetadata: string; readonly bankName: string },
  ) {}

  authorisationPath(subject: ScaSubject, authorisation: Authorisation): string {
    return `${subject.authorisationsPath}/${authorisation.authorisationId}`;
  }

  /** The links the 201 of a consent or payment carries, and the implicit authorisation the bank created, if any. */
  initiation(subject: ScaSubject, options: { explicit: boolean }): { body: Omit<ScaBody, 'authorisationId'>; authorisation?: Authorisation } {
    const base: Links = { self: href(subject.selfPath), status: href(subject.statusPath) };
    const start = subject.authorisationsPath;
    const psu = findBgPsu(subject.psuId);
    if (options.explicit) {
      const link =
        subject.approach === 'EMBEDDED'
          ? 'startAuthorisationWithPsuAuthentication'
          : subject.approach === 'DECOUPLED' && !psu
            ? 'startAuthorisationWithPsuIdentification'
            : 'startAuthorisation';
      return { body: { _links: { [link]: href(start), ...base } } };
    }
    switch (subject.approach) {
      case 'REDIRECT':
      case 'OAUTH': {
        const authorisation = this.#create(subject, psu?.id);
        return { authorisation, body: { scaStatus: authorisation.scaStatus, _links: { ...this.#links(subject, authorisation), ...base } } };
      }
      case 'DECOUPLED': {
        if (!psu) return { body: { _links: { startAuthorisationWithPsuIdentification: href(start), ...base } } };
        const authorisation = this.#create(subject, psu.id);
        return {
          authorisation,
          body: { scaStatus: authorisation.scaStatus, psuMessage: authorisation.psuMessage, _links: { ...this.#links(subject, authorisation), ...base } },
        };
      }
      case 'EMBEDDED': {
        if (!psu) return { body: { _links: { startAuthorisationWithPsuAuthentication: href(start), ...base } } };
        const authorisation = this.#create(subject, psu.id);
        return { authorisation, body: { scaStatus: authorisation.scaStatus, _links: { ...this.#links(subject, authorisation), ...base } } };
      }
    }
  }

  /** `POST …/authorisations`: a new authorisation, with the PSU identification / authentication it carries. */
  start(subject: ScaSubject, request: { psuIdHeader: string | null; body: Record<string, unknown> }): ScaBody {
    if (!subject.isOpen()) {
      throw new BgError(409, 'STATUS_INVALID', `the ${subject.kind} is not awaiting authorisation any more`);
    }
    const psu = this.#identify(subject, request.psuIdHeader, subject.approach === 'DECOUPLED' || subject.approach === 'EMBEDDED');
    const authorisation = this.#create(subject, psu?.id);
    if (authorisation.scaStatus === 'failed') return this.#answer(subject, authorisation, true);
    if (subject.approach === 'EMBEDDED' && request.body.psuData !== undefined) {
      return { ...this.#embedded(subject, authorisation, request.body), authorisationId: authorisation.authorisationId };
    }
    return this.#answer(subject, authorisation, true);
  }

  /** `PUT …/authorisations/{id}`: identification, password, method, OTP or confirmation code, by the body's shape. */
  update(subject: ScaSubject, authorisation: Authorisation, request: { psuIdHeader: string | null; body: Record<string, unknown> }): ScaBody {
    this.settle(subject);
    if (FINAL.has(authorisation.scaStatus)) {
      throw new BgError(409, 'STATUS_INVALID', `the authorisation is ${authorisation.scaStatus} already`);
    }
    const { body } = request;
    if (body.confirmationCode !== undefined) return this.#confirm(subject, authorisation, body.confirmationCode);
    if (body.psuData !== undefined || body.authenticationMethodId !== undefined || body.scaAuthenticationData !== undefined) {
      if (authorisation.approach !== 'EMBEDDED') {
        throw new BgError(409, 'STATUS_INVALID', `this authorisation runs the ${authorisation.approach} approach: it takes no PSU credentials`);
      }
      return this.#embedded(subject, authorisation, body);
    }
    // An empty body: update PSU identification (PSU-ID in the header).
    if (authorisation.psuId) throw new BgError(409, 'STATUS_INVALID', 'the PSU is identified already; nothing to update');
    const psu = this.#identify(subject, request.psuIdHeader, true)!;
    this.#identified(subject, authorisation, psu);
    return this.#answer(subject, authorisation, false);
  }

  /** `GET …/authorisations/{id}`: the SCA status; a running decoupled SCA may not be read faster than allowed. */
  read(subject: ScaSubject, authorisation: Authorisation): ScaBody {
    this.settle(subject);
    if (authorisation.decoupled && authorisation.scaStatus === 'started') this.#throttle(authorisation.decoupled);
    return this.#answer(subject, authorisation, false);
  }

  /** A subject's status read: throttled like the SCA status while a decoupled SCA runs. */
  readSubject(subject: ScaSubject): void {
    this.settle(subject);
    const running = subject.authorisations.find((a) => a.decoupled && a.scaStatus === 'started');
    if (running?.decoupled) this.#throttle(running.decoupled, 'status');
  }

  /** Applies what happened meanwhile at the bank: the app's automatic approval, a decoupled timeout. */
  settle(subject: ScaSubject): void {
    const now = this.clock.now();
    for (const authorisation of subject.authorisations) {
      const decoupled = authorisation.decoupled;
      if (!decoupled || authorisation.scaStatus !== 'started') continue;
      if (decoupled.approveAt !== undefined && now >= decoupled.approveAt) this.decideInApp(subject, authorisation, 'approve');
      else if (now >= decoupled.timeoutAt) this.#failed(subject, authorisation, 'the PSU did not answer in the app in time');
    }
  }

  /** The PSU's app: approves or rejects a running decoupled SCA. */
  decideInApp(subject: ScaSubject, authorisation: Authorisation, decision: 'approve' | 'reject'): void {
    if (authorisation.approach !== 'DECOUPLED' || authorisation.scaStatus !== 'started') {
      throw new BgError(409, 'STATUS_INVALID', `no decoupled SCA is waiting in the app for authorisation ${authorisation.authorisationId} (${authorisation.approach}, ${authorisation.scaStatus})`);
    }
    if (decision === 'reject') return this.#failed(subject, authorisation, 'the PSU rejected it in the app');
    this.#finalise(subject, authorisation, findBgPsu(authorisation.psuId)!, undefined);
  }

  /** The scaRedirect link's authorisation, if the link is known (expired links are reported by the page). */
  redirectTarget(redirectId: string): { subject: ScaSubject; authorisation: Authorisation } | undefined {
    return this.#redirects.get(redirectId);
  }

  /**
   * The PSU at the bank's redirect page: logs in (PSU id, password, OTP) and approves or denies.
   * Returns where the bank sends the PSU's browser: the TPP's redirect URI (with `code`, the confirmation code)
   * or its nok URI. Throws a `BgError` for a login the page should show again (wrong password, …).
   */
  redirectLogin(
    redirectId: string,
    form: { psuId: string; password: string; otp: string; decision: 'approve' | 'deny'; selection: readonly string[] | undefined },
  ): URL {
    const target = this.#redirects.get(redirectId);
    if (!target) throw new BgError(404, 'RESOURCE_UNKNOWN', 'this authorisation link is unknown');
    const { subject, authorisation } = target;
    const back = (ok: boolean, code?: string) => {
      const url = new URL((ok ? subject.redirectUris.ok : (subject.redirectUris.nok ?? subject.redirectUris.ok))!);
      if (code) url.searchParams.set('code', code);
      return url;
    };
    if (authorisation.scaStatus !== 'received' || this.clock.now() > authorisation.redirect!.expiresAt) {
      if (authorisation.scaStatus === 'received') this.#failed(subject, authorisation, 'the authorisation link expired');
      throw new BgError(409, 'STATUS_INVALID', 'this authorisation link was used or has expired: the TPP has to start again');
    }
    if (form.decision === 'deny') {
      this.#failed(subject, authorisation, 'the PSU cancelled at the bank');
      return back(false);
    }
    const psu = this.checkLogin(subject, form);
    const refused = subject.refuse(psu);
    if (refused) {
      this.#failed(subject, authorisation, refused);
      return back(false);
    }
    authorisation.psuId = psu.id;
    subject.psuId ??= psu.id;
    authorisation.scaStatus = 'unconfirmed';
    authorisation.redirect!.confirmationCode = randomBytes(16).toString('base64url');
    authorisation.redirect!.selection = form.selection;
    return back(true, authorisation.redirect!.confirmationCode);
  }

  /** The PSU's login at the bank's pages (redirect and OAuth): the PSU, or a `BgError` the page shows. */
  checkLogin(subject: ScaSubject | undefined, form: { psuId: string; password: string; otp: string }): BgPsu {
    const psu = findBgPsu(form.psuId);
    if (!psu || form.password !== SANDBOX_PASSWORD) throw new BgError(401, 'PSU_CREDENTIALS_INVALID', 'unknown PSU or wrong password');
    if (form.otp !== SANDBOX_OTP) throw new BgError(401, 'PSU_CREDENTIALS_INVALID', 'wrong TAN');
    if (subject?.psuId && subject.psuId !== psu.id) {
      throw new BgError(401, 'PSU_CREDENTIALS_INVALID', `this ${subject.kind} was requested for another PSU`);
    }
    return psu;
  }

  /** OAuth SCA done at the authorization server (scope `AIS:<id>` / `PIS:<id>`): the open OAUTH authorisation finalises. */
  oauthApproved(subject: ScaSubject, psu: BgPsu, selection: readonly string[] | undefined): void {
    const authorisation = this.#openOAuth(subject);
    authorisation.psuId = psu.id;
    this.#finalise(subject, authorisation, psu, selection);
  }

  oauthDenied(subject: ScaSubject, reason: string): void {
    this.#failed(subject, this.#openOAuth(subject), reason);
  }

  #openOAuth(subject: ScaSubject): Authorisation {
    const authorisation = subject.authorisations.find((a) => a.approach === 'OAUTH' && !FINAL.has(a.scaStatus));
    if (!authorisation) throw new BgError(409, 'STATUS_INVALID', `the ${subject.kind} has no OAuth authorisation waiting`);
    return authorisation;
  }

  #create(subject: ScaSubject, psuId: string | undefined): Authorisation {
    const now = this.clock.now();
    const authorisation: Authorisation = {
      authorisationId: randomUUID(),
      approach: subject.approach,
      createdAt: now,
      scaStatus: 'received',
      psuId: undefined,
      failures: 0,
    };
    subject.authorisations.push(authorisation);
    if (subject.approach === 'REDIRECT') {
      const id = randomBytes(18).toString('base64url');
      authorisation.redirect = { id, expiresAt: now + this.settings.redirectLinkTtlMs };
      this.#redirects.set(id, { subject, authorisation });
    }
    const psu = findBgPsu(psuId);
    if (psu) this.#identified(subject, authorisation, psu);
    return authorisation;
  }

  /** The PSU is known for this authorisation: decoupled SCA starts in the app, embedded waits for the password. */
  #identified(subject: ScaSubject, authorisation: Authorisation, psu: BgPsu): void {
    authorisation.psuId = psu.id;
    subject.psuId ??= psu.id;
    if (authorisation.approach === 'REDIRECT' || authorisation.approach === 'OAUTH') return;
    const refused = subject.refuse(psu);
    if (refused) return this.#failed(subject, authorisation, refused);
    if (authorisation.approach === 'EMBEDDED') {
      if (psu.embeddedMethods.length === 0) return this.#failed(subject, authorisation, 'no SCA method of this PSU works without a redirect');
      authorisation.scaStatus = 'psuIdentified';
      return;
    }
    if (!psu.app) return this.#failed(subject, authorisation, 'this PSU has no app for a decoupled SCA');
    const now = this.clock.now();
    authorisation.scaStatus = 'started';
    authorisation.psuMessage = `Please open the ${this.urls.bankName} app and confirm: ${subject.describe()[0] ?? subject.kind}.`;
    authorisation.decoupled = {
      approveAt: this.settings.decoupledApprovalMs > 0 ? now + this.settings.decoupledApprovalMs : undefined,
      timeoutAt: now + this.settings.decoupledTimeoutMs,
    };
  }

  /** The PSU from a `PSU-ID` header (or the subject's), checked against the subject's. */
  #identify(subject: ScaSubject, header: string | null, required: boolean): BgPsu | undefined {
    const id = header ?? subject.psuId;
    if (!id) {
      if (required) throw new BgError(400, 'FORMAT_ERROR', 'PSU-ID is required to identify the PSU for this SCA approach', { path: 'PSU-ID' });
      return undefined;
    }
    if (subject.psuId && header !== null && header !== subject.psuId) {
      throw new BgError(400, 'FORMAT_ERROR', `PSU-ID is not the PSU this ${subject.kind} was requested for`, { path: 'PSU-ID' });
    }
    const psu = findBgPsu(id);
    if (!psu) throw new BgError(401, 'PSU_CREDENTIALS_INVALID', 'PSU-ID is not a customer of this bank');
    return psu;
  }

  #embedded(subject: ScaSubject, authorisation: Authorisation, body: Record<string, unknown>): ScaBody {
    const psu = findBgPsu(authorisation.psuId);
    if (!psu) throw new BgError(400, 'FORMAT_ERROR', 'identify the PSU first (PSU-ID)', { path: 'PSU-ID' });
    if (body.psuData !== undefined) {
      if (authorisation.scaStatus !== 'psuIdentified') throw this.#wrongStep(authorisation, 'psuData');
      const password = (body.psuData as { password?: unknown }).password;
      if (typeof password !== 'string') {
        throw new BgError(400, 'FORMAT_ERROR', 'psuData.password is required (encrypted passwords are not supported)', { path: 'psuData.password' });
      }
      if (password !== SANDBOX_PASSWORD) this.#wrongSecret(subject, authorisation, 'wrong password');
      authorisation.failures = 0;
      if (psu.embeddedMethods.length === 1) this.#select(authorisation, psu.embeddedMethods[0]!);
      else authorisation.scaStatus = 'psuAuthenticated';
    } else if (body.authenticationMethodId !== undefined) {
      if (authorisation.scaStatus !== 'psuAuthenticated') throw this.#wrongStep(authorisation, 'authenticationMethodId');
      const method = psu.embeddedMethods.find((m) => m.authenticationMethodId === body.authenticationMethodId);
      if (!method) {
        throw new BgError(400, 'SCA_METHOD_UNKNOWN', `authenticationMethodId must be one of ${psu.embeddedMethods.map((m) => m.authenticationMethodId).join(', ')}`, {
          path: 'authenticationMethodId',
        });
      }
      this.#select(authorisation, method);
    } else {
      if (authorisation.scaStatus !== 'scaMethodSelected') throw this.#wrongStep(authorisation, 'scaAuthenticationData');
      if (body.scaAuthenticationData !== SANDBOX_OTP) this.#wrongSecret(subject, authorisation, 'wrong TAN');
      this.#finalise(subject, authorisation, psu, undefined);
    }
    return this.#answer(subject, authorisation, false);
  }

  #select(authorisation: Authorisation, method: ScaMethod): void {
    authorisation.method = method;
    authorisation.scaStatus = 'scaMethodSelected';
  }

  #confirm(subject: ScaSubject, authorisation: Authorisation, code: unknown): ScaBody {
    if (authorisation.approach !== 'REDIRECT') throw new BgError(409, 'STATUS_INVALID', `a ${authorisation.approach} authorisation takes no confirmation code`);
    if (authorisation.scaStatus !== 'unconfirmed') {
      throw new BgError(409, 'STATUS_INVALID', `the PSU has not finished the SCA at the bank (scaStatus ${authorisation.scaStatus})`);
    }
    if (code !== authorisation.redirect!.confirmationCode) this.#wrongSecret(subject, authorisation, 'confirmationCode does not match', 400, 'SCA_INVALID');
    this.#finalise(subject, authorisation, findBgPsu(authorisation.psuId)!, authorisation.redirect!.selection);
    return { scaStatus: 'finalised', _links: { scaStatus: href(this.authorisationPath(subject, authorisation)), status: href(subject.statusPath) } };
  }

  #wrongSecret(subject: ScaSubject, authorisation: Authorisation, what: string, status = 401, code: 'PSU_CREDENTIALS_INVALID' | 'SCA_INVALID' = 'PSU_CREDENTIALS_INVALID'): never {
    authorisation.failures += 1;
    if (authorisation.failures >= MAX_FAILURES) {
      this.#failed(subject, authorisation, `${what}, ${MAX_FAILURES} times`);
      throw new BgError(status, code, `${what}; the authorisation failed after ${MAX_FAILURES} attempts`);
    }
    throw new BgError(status, code, `${what} (${MAX_FAILURES - authorisation.failures} attempts left)`);
  }

  #wrongStep(authorisation: Authorisation, field: string): BgError {
    return new BgError(409, 'STATUS_INVALID', `${field} does not fit scaStatus ${authorisation.scaStatus}`);
  }

  #finalise(subject: ScaSubject, authorisation: Authorisation, psu: BgPsu, selection: readonly string[] | undefined): void {
    authorisation.scaStatus = 'finalised';
    authorisation.psuMessage = undefined;
    if (subject.isOpen()) subject.complete(psu, selection);
  }

  #failed(subject: ScaSubject, authorisation: Authorisation, reason: string): void {
    authorisation.scaStatus = 'failed';
    authorisation.psuMessage = reason;
    if (subject.isOpen()) subject.fail(reason);
  }

  #throttle(state: { lastPollAt?: number; statusPollAt?: number }, what: 'scaStatus' | 'status' = 'scaStatus'): void {
    const key = what === 'scaStatus' ? 'lastPollAt' : 'statusPollAt';
    const now = this.clock.now();
    const last = state[key];
    const wait = last === undefined ? 0 : last + this.settings.decoupledPollIntervalMs - now;
    if (wait > 0) {
      throw new BgError(429, 'ACCESS_EXCEEDED', `a decoupled SCA is running: poll its ${what} at most every ${this.settings.decoupledPollIntervalMs} ms`, {
        headers: { 'retry-after': String(Math.ceil(wait / 1000)) },
      });
    }
    state[key] = now;
  }

  /** The SCA links an authorisation offers in its current step. */
  #links(subject: ScaSubject, authorisation: Authorisation): Links {
    const self = this.authorisationPath(subject, authorisation);
    const links: Links = { scaStatus: href(self) };
    if (FINAL.has(authorisation.scaStatus)) return links;
    switch (authorisation.approach) {
      case 'REDIRECT':
        if (authorisation.scaStatus === 'received') links.scaRedirect = href(`${this.urls.onlineBanking}/sca/${authorisation.redirect!.id}`);
        // This bank mandates the authorisation confirmation after a redirect (IG 1.3.8+: the "confirmation" link).
        links.confirmation = href(self);
        break;
      case 'OAUTH':
        links.scaOAuth = href(this.urls.oauthMetadata);
        break;
      case 'EMBEDDED':
        if (authorisation.scaStatus === 'psuIdentified') links.updatePsuAuthentication = href(self);
        if (authorisation.scaStatus === 'psuAuthenticated') links.selectAuthenticationMethod = href(self);
        if (authorisation.scaStatus === 'scaMethodSelected') links.authoriseTransaction = href(self);
        if (authorisation.scaStatus === 'received') links.updatePsuIdentification = href(self);
        break;
      case 'DECOUPLED':
        if (authorisation.scaStatus === 'received') links.updatePsuIdentification = href(self);
        break;
    }
    return links;
  }

  #answer(subject: ScaSubject, authorisation: Authorisation, withId: boolean): ScaBody {
    const psu = findBgPsu(authorisation.psuId);
    const body: ScaBody = { scaStatus: authorisation.scaStatus, _links: this.#links(subject, authorisation) };
    if (withId) body.authorisationId = authorisation.authorisationId;
    if (authorisation.psuMessage) body.psuMessage = authorisation.psuMessage;
    if (authorisation.approach === 'EMBEDDED' && authorisation.scaStatus === 'psuAuthenticated' && psu) body.scaMethods = [...psu.embeddedMethods];
    if (authorisation.scaStatus === 'scaMethodSelected' && authorisation.method) {
      body.chosenScaMethod = authorisation.method;
      body.challengeData = CHALLENGE;
    }
    if (FINAL.has(authorisation.scaStatus)) body._links.status = href(subject.statusPath);
    return body;
  }
}
