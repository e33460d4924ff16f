/**
 * The UK-OB-like bank's sandbox PSU without a browser: given the authorize URL a TPP (the gateway) sends the PSU to,
 * usually `…/as/authorize?client_id=…&request_uri=urn:…` after PAR, it signs in as a sandbox PSU, approves (or
 * rejects) the intent, chooses the accounts (account access) or the debtor account (a payment naming none), and
 * returns the redirect back to the TPP with its parameters, from the query (FAPI 2.0: `code`, `state`, `iss`) or the
 * fragment (FAPI 1 hybrid: `code`, `id_token`, `state`), without following it.
 */
import { consentHeadlessly, type HeadlessConsentStep } from '../headless-consent.js';

export interface UkobPsuChoice {
  /** PEM of the CA of the bank's server certificate (sandbox.json `caFile`'s content). */
  readonly ca: string;
  /** A sandbox PSU id (sandbox.json `banks.ukob.psuIds`). */
  readonly psuId: string;
  /** Account access: the AccountIds to share. Default: every account of the PSU. */
  readonly accounts?: readonly string[];
  /** A payment without DebtorAccount: the AccountId to pay from. Default: the PSU's first account. */
  readonly debtorAccount?: string;
  /** Default `approve`. */
  readonly decision?: 'approve' | 'reject';
}

export interface UkobPsuResult {
  /** The redirect back to the TPP, as the bank sent it. */
  readonly callbackUrl: URL;
  /** The authorization response parameters, wherever the response mode put them. */
  readonly params: URLSearchParams;
  readonly steps: readonly HeadlessConsentStep[];
}

/**
 * Authorises (or rejects) the intent behind `authorizeUrl` as a sandbox PSU.
 *
 * @example
 * const { params } = await authoriseAsUkobPsu(authorizeUrl, { ca, psuId: 'ukob-psu-1', accounts: ['acc-ukob1-current'] });
 * params.get('code');
 */
export async function authoriseAsUkobPsu(authorizeUrl: string | URL, choice: UkobPsuChoice): Promise<UkobPsuResult> {
  const form: Record<string, string> = { decision: choice.decision ?? 'approve' };
  if (choice.accounts && choice.accounts.length > 0) form.accounts = choice.accounts.join(',');
  if (choice.debtorAccount) form.debtor_account = choice.debtorAccount;
  const { callbackUrl, steps } = await consentHeadlessly(authorizeUrl, { ca: choice.ca, psuId: choice.psuId, form });
  const params = callbackUrl.hash.length > 1 ? new URLSearchParams(callbackUrl.hash.slice(1)) : new URLSearchParams(callbackUrl.search);
  return { callbackUrl, params, steps };
}
