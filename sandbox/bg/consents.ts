/**
 * An account information consent (`POST /v1/consents`) and the rules a Berlin Group bank enforces on it:
 * the validity it grants (validUntil capped, frequencyPerDay ≤ 4), the accounts it covers once the PSU authorised
 * it (explicit IBANs, bank-offered, availableAccounts, allPsd2), its lifecycle (received → valid | rejected;
 * valid → expired | revokedByPsu | terminatedByTpp) and the unattended-access count per endpoint and account
 * over a rolling 24 h (RTS art. 36(5)(b)).
 */
import type { SandboxAccount } from '../data.js';
import { addDays, type BankClock } from './clock.js';
import { BgError } from './errors.js';
import type { BgPsu } from './psus.js';
import type { Authorisation, ScaApproach, ScaSubject } from './sca.js';

export type ConsentStatus = 'received' | 'rejected' | 'valid' | 'revokedByPsu' | 'expired' | 'terminatedByTpp' | 'partiallyAuthorised';

interface AccountReference {
  iban?: string;
  bban?: string;
  pan?: string;
  maskedPan?: string;
  msisdn?: string;
  currency?: string;
}

export interface AccountAccess {
  accounts?: AccountReference[];
  balances?: AccountReference[];
  transactions?: AccountReference[];
  availableAccounts?: 'allAccounts' | 'allAccountsWithOwnerName';
  availableAccountsWithBalance?: 'allAccounts' | 'allAccountsWithOwnerName';
  allPsd2?: 'allAccounts' | 'allAccountsWithOwnerName';
  additionalInformation?: unknown;
  restrictedTo?: unknown;
}

export interface ConsentRequest {
  readonly access: AccountAccess;
  readonly recurringIndicator: boolean;
  readonly validUntil: string;
  readonly frequencyPerDay: number;
  readonly combinedServiceIndicator: boolean;
}

/** What the consent lets the TPP read, by account resourceId, once authorised. */
interface Rights {
  readonly list: ReadonlySet<string>;
  readonly details: ReadonlySet<string>;
  readonly balances: ReadonlySet<string>;
  readonly transactions: ReadonlySet<string>;
  /** `GET /accounts?withBalance=true` allowed. */
  readonly listWithBalance: boolean;
  readonly ownerName: boolean;
}

/** The bank's limits: RTS art. 36(5)(b) (4 unattended reads a day), RTS art. 10a (SCA again after 180 days). */
export interface ConsentLimits {
  readonly maxFrequencyPerDay: number;
  readonly maxValidityDays: number;
}

const DAY_MS = 86_400_000;
const TERMINAL: ReadonlySet<ConsentStatus> = new Set(['rejected', 'revokedByPsu', 'expired', 'terminatedByTpp']);

/** A consent that names no account at all but asks for accounts, balances or transactions: the PSU picks them at the bank. */
export function isBankOffered(access: AccountAccess): boolean {
  const lists = [access.accounts, access.balances, access.transactions];
  return lists.some((list) => list !== undefined) && lists.every((list) => list === undefined || list.length === 0);
}

/**
 * The consent body's rules beyond its JSON schema; throws the 400 the bank answers. Returns the validity granted.
 */
export function checkConsentRequest(request: ConsentRequest, clock: BankClock, limits: ConsentLimits): { validUntil: string; frequencyPerDay: number } {
  const { access } = request;
  const refs = [...(access.accounts ?? []), ...(access.balances ?? []), ...(access.transactions ?? [])];
  const globals = [access.availableAccounts, access.availableAccountsWithBalance, access.allPsd2].filter((v) => v !== undefined);
  if (refs.length === 0 && globals.length === 0 && !isBankOffered(access)) {
    throw new BgError(400, 'FORMAT_ERROR', 'access names no account and no access right', { path: 'access' });
  }
  if (globals.length > 0 && refs.length > 0) {
    throw new BgError(400, 'FORMAT_ERROR', 'access mixes account lists with availableAccounts/allPsd2', { path: 'access' });
  }
  const notIban = refs.find((ref) => typeof ref.iban !== 'string');
  if (notIban) throw new BgError(400, 'FORMAT_ERROR', 'this bank addresses accounts by IBAN only', { path: 'access' });
  if (access.additionalInformation !== undefined || access.restrictedTo !== undefined) {
    throw new BgError(400, 'PARAMETER_NOT_SUPPORTED', 'access.additionalInformation and access.restrictedTo are not supported', { path: 'access' });
  }
  if (request.combinedServiceIndicator) {
    throw new BgError(400, 'PARAMETER_NOT_SUPPORTED', 'combined AIS/PIS sessions are not supported (combinedServiceIndicator must be false)', {
      path: 'combinedServiceIndicator',
    });
  }
  if (!request.recurringIndicator && request.frequencyPerDay !== 1) {
    throw new BgError(400, 'FORMAT_ERROR', 'a one-off consent (recurringIndicator false) has frequencyPerDay 1', { path: 'frequencyPerDay' });
  }
  const today = clock.today();
  if (!/^\d{4}-\d{2}-\d{2}$/.test(request.validUntil) || Number.isNaN(Date.parse(request.validUntil))) {
    throw new BgError(400, 'FORMAT_ERROR', 'validUntil must be a date (YYYY-MM-DD)', { path: 'validUntil' });
  }
  if (request.validUntil < today) throw new BgError(400, 'PERIOD_INVALID', `validUntil ${request.validUntil} is in the past`, { path: 'validUntil' });
  // "Future dates might get adjusted by ASPSP" (validUntil, spec): the bank grants at most maxValidityDays.
  const latest = addDays(today, limits.maxValidityDays);
  return {
    validUntil: request.validUntil > latest ? latest : request.validUntil,
    frequencyPerDay: Math.min(request.frequencyPerDay, limits.maxFrequencyPerDay),
  };
}

export interface ConsentHooks {
  /** The consent became valid: a new recurring consent supersedes the PSU's older ones at this TPP. */
  onValid(consent: Consent): void;
  /** The consent ended (expired, revoked, terminated, rejected): its OAuth grants die with it. */
  onEnd(consent: Consent): void;
}

export class Consent implements ScaSubject {
  readonly kind = 'consent' as const;
  readonly authorisations: Authorisation[] = [];
  readonly oauthScope: string;
  readonly selfPath: string;
  readonly statusPath: string;
  readonly authorisationsPath: string;
  status: ConsentStatus = 'received';
  /** Why it left `valid` or never reached it (for the control plane and psuMessage). */
  statusReason: string | undefined;
  lastActionDate: string;
  psuId: string | undefined;
  /** Set when the consent is bound to OAuth: its reads then need the token (`AIS:<id>`, or the pre-step's grant). */
  oauth: { kind: 'integrated' | 'pre-step'; grantId: string | undefined } | undefined;
  /** The OAuth grants issued for this consent, revoked when it ends. */
  readonly grantIds = new Set<string>();
  #rights: Rights | undefined;
  /** The IBANs the PSU picked at the bank for a bank-offered consent. */
  #picked: string[] | undefined;
  /** Unattended reads: endpoint key → timestamps within the last 24 h. */
  readonly #usage = new Map<string, number[]>();

  constructor(
    readonly id: string,
    readonly tppId: string,
    readonly request: ConsentRequest,
    readonly granted: { readonly validUntil: string; readonly frequencyPerDay: number },
    readonly approach: ScaApproach,
    readonly redirectUris: { readonly ok: string | undefined; readonly nok: string | undefined },
    private readonly clock: BankClock,
    private readonly hooks: ConsentHooks,
    basePath: string,
  ) {
    this.oauthScope = `AIS:${id}`;
    this.selfPath = `${basePath}/v1/consents/${id}`;
    this.statusPath = `${this.selfPath}/status`;
    this.authorisationsPath = `${this.selfPath}/authorisations`;
    this.lastActionDate = clock.today();
  }

  isOpen(): boolean {
    return this.status === 'received';
  }

  isTerminal(): boolean {
    return TERMINAL.has(this.status);
  }

  refuse(psu: BgPsu): string | undefined {
    const { access } = this.request;
    const refs = [...(access.accounts ?? []), ...(access.balances ?? []), ...(access.transactions ?? [])];
    const foreign = refs.find((ref) => !psu.accounts.some((a) => a.iban === ref.iban));
    return foreign ? 'the consent names an account the PSU does not hold' : undefined;
  }

  complete(psu: BgPsu, selection: readonly string[] | undefined): void {
    this.psuId = psu.id;
    this.#rights = this.#resolve(psu, selection);
    this.#set('valid');
    this.hooks.onValid(this);
  }

  fail(reason: string): void {
    this.statusReason = reason;
    this.#set('rejected');
    this.hooks.onEnd(this);
  }

  /** Ends a consent: the PSU revoked it, the TPP deleted it, it expired or a newer one superseded it. */
  end(status: 'revokedByPsu' | 'terminatedByTpp' | 'expired', reason: string): void {
    this.statusReason = reason;
    this.#set(status);
    this.hooks.onEnd(this);
  }

  /** Applies the passing of time: a consent past its validUntil is expired. */
  settle(): void {
    if (!this.isTerminal() && this.clock.today() > this.granted.validUntil) this.end('expired', `validUntil ${this.granted.validUntil} has passed`);
  }

  describe(): string[] {
    const { access } = this.request;
    const what = access.allPsd2
      ? 'all your accounts with balances and transactions'
      : access.availableAccounts || access.availableAccountsWithBalance
        ? 'the list of your accounts'
        : isBankOffered(access)
          ? 'the accounts you choose'
          : 'the listed accounts';
    return [
      `access to ${what}, ${this.request.recurringIndicator ? `up to ${this.granted.frequencyPerDay} times a day` : 'once'}, until ${this.granted.validUntil}`,
      ...[...new Set([...(access.accounts ?? []), ...(access.balances ?? []), ...(access.transactions ?? [])].map((ref) => ref.iban!))],
    ];
  }

  /** The access as granted, for `GET /v1/consents/{id}`: a bank-offered consent lists the accounts the PSU picked. */
  grantedAccess(): AccountAccess {
    if (this.#picked && isBankOffered(this.request.access)) {
      const refs = this.#picked.map((iban) => ({ iban }));
      return { accounts: refs, balances: refs, transactions: refs };
    }
    return this.request.access;
  }

  /** A read of account data needs a valid consent: 401 CONSENT_INVALID / CONSENT_EXPIRED otherwise. */
  checkValid(): void {
    this.settle();
    if (this.status === 'expired') throw new BgError(401, 'CONSENT_EXPIRED', `the consent expired (${this.statusReason ?? 'validUntil passed'})`);
    if (this.status !== 'valid') {
      const why = this.status === 'received' ? 'it is not authorised by the PSU yet' : `its status is ${this.status}`;
      throw new BgError(401, 'CONSENT_INVALID', `the consent is not valid for account access: ${why}`);
    }
  }

  /** The consent covers this endpoint (and account): 401 CONSENT_INVALID otherwise. */
  checkRight(right: 'list' | 'details' | 'balances' | 'transactions', account: SandboxAccount | undefined, withBalance = false): void {
    const rights = this.#rights!;
    if (right === 'list') {
      if (withBalance && !rights.listWithBalance) throw new BgError(401, 'CONSENT_INVALID', 'the consent does not cover balances with the account list');
      return;
    }
    if (!account || !rights[right].has(account.resourceId)) {
      throw new BgError(401, 'CONSENT_INVALID', `the consent does not cover ${right === 'details' ? 'this account' : `the ${right} of this account`}`);
    }
    if (right === 'details' && withBalance && !rights.balances.has(account.resourceId)) {
      throw new BgError(401, 'CONSENT_INVALID', 'the consent does not cover the balances of this account');
    }
  }

  /** Accounts of the PSU this consent lists in `GET /accounts`. */
  listed(psu: BgPsu): SandboxAccount[] {
    return psu.accounts.filter((a) => this.#rights?.list.has(a.resourceId));
  }

  mayReadBalances(account: SandboxAccount): boolean {
    return this.#rights?.balances.has(account.resourceId) ?? false;
  }

  mayReadTransactions(account: SandboxAccount): boolean {
    return this.#rights?.transactions.has(account.resourceId) ?? false;
  }

  /**
   * Counts a read made without the PSU (no `PSU-IP-Address`) against frequencyPerDay, per endpoint and account
   * over a rolling 24 h; the fifth (with 4) is refused with 429 ACCESS_EXCEEDED. A read with the PSU present is free.
   */
  countRead(endpointKey: string, psuPresent: boolean): void {
    this.lastActionDate = this.clock.today();
    if (psuPresent) return;
    const now = this.clock.now();
    const recent = (this.#usage.get(endpointKey) ?? []).filter((at) => at > now - DAY_MS);
    if (recent.length >= this.granted.frequencyPerDay) {
      const retryAfter = Math.ceil((recent[0]! + DAY_MS - now) / 1000);
      this.#usage.set(endpointKey, recent);
      throw new BgError(429, 'ACCESS_EXCEEDED', `frequencyPerDay ${this.granted.frequencyPerDay} reached for this endpoint and account: unattended access is refused until the oldest read is 24 h old`, {
        headers: { 'retry-after': String(retryAfter) },
      });
    }
    recent.push(now);
    this.#usage.set(endpointKey, recent);
  }

  /** Unattended reads in the last 24 h per endpoint key (control plane). */
  usage(): Record<string, number> {
    const now = this.clock.now();
    return Object.fromEntries([...this.#usage].map(([key, times]) => [key, times.filter((at) => at > now - DAY_MS).length]));
  }

  #set(status: ConsentStatus): void {
    this.status = status;
    this.lastActionDate = this.clock.today();
  }

  #resolve(psu: BgPsu, selection: readonly string[] | undefined): Rights {
    const { access } = this.request;
    const all = new Set(psu.accounts.map((a) => a.resourceId));
    const global = access.allPsd2 ?? access.availableAccountsWithBalance ?? access.availableAccounts;
    if (access.allPsd2) return { list: all, details: all, balances: all, transactions: all, listWithBalance: true, ownerName: global === 'allAccountsWithOwnerName' };
    if (global) return { list: all, details: new Set(), balances: new Set(), transactions: new Set(), listWithBalance: !!access.availableAccountsWithBalance, ownerName: global === 'allAccountsWithOwnerName' };
    const ids = (refs: AccountReference[] | undefined) =>
      new Set((refs ?? []).map((ref) => psu.accounts.find((a) => a.iban === ref.iban)?.resourceId).filter((id): id is string => id !== undefined));
    if (isBankOffered(access)) {
      const picked = psu.accounts.filter((a) => !selection || selection.length === 0 || selection.includes(a.iban));
      this.#picked = picked.map((a) => a.iban);
      const chosen = new Set(picked.map((a) => a.resourceId));
      return { list: chosen, details: chosen, balances: chosen, transactions: chosen, listWithBalance: true, ownerName: false };
    }
    const balances = ids(access.balances);
    const transactions = ids(access.transactions);
    const details = new Set([...ids(access.accounts), ...balances, ...transactions]);
    return { list: details, details, balances, transactions, listWithBalance: balances.size > 0, ownerName: false };
  }
}
