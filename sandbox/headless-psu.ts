/**
 * The sandbox PSU without a browser, for every SCA approach of the sandbox banks, as tests and `npm run connect` need:
 *
 *   authoriseAtBank(url)   a link the PSU's browser is sent to: an OAuth authorize URL (SEB, SG, bg `scaOAuth` and
 *                          pre-step), a bg `scaRedirect`, an SG `consentApproval`, an SEB signing `scaRedirect`.
 *                          It follows the bank's redirects, fills the bank's login form (PSU id, password, TAN,
 *                          approve or deny, accounts) and returns where the bank finally sends the browser back
 *                          (the TPP's callback / redirect URI / report URL), without following it.
 *   decideInApp(…)         the PSU's app approves or rejects a decoupled SCA (bg; SEB's Mobile BankID signing).
 *   signInBankIdApp(…)     SEB's decoupled Mobile BankID login: the PSU signs in the app (SEB's sandbox simulator).
 *   sandboxPsuSecrets()    what the PSU types into the TPP's own pages for an embedded SCA (password, TAN).
 */
import { Agent, fetch } from 'undici';
import { SANDBOX_OTP, SANDBOX_PASSWORD } from './bg/psus.js';

export interface HeadlessPsuOptions {
  /** PEM of the CA that signed the bank's server certificate (sandbox.json `caFile`'s content). */
  readonly ca: string;
  /** The sandbox PSU (sandbox.json `psuIds`). */
  readonly psuId: string;
  /** Default: the sandbox password (banks that ask for none ignore it). */
  readonly password?: string;
  /** Default: the sandbox TAN. */
  readonly otp?: string;
  /** Default `approve`; `deny` cancels at the bank. */
  readonly decision?: 'approve' | 'deny';
  /** IBANs to grant for a consent where the PSU picks the accounts; default all. */
  readonly accounts?: readonly string[];
}

export interface HeadlessStep {
  readonly method: 'GET' | 'POST';
  readonly url: string;
  readonly status: number;
  readonly location: string | undefined;
}

export class HeadlessPsuError extends Error {
  override readonly name = 'HeadlessPsuError';

  constructor(
    message: string,
    readonly steps: readonly HeadlessStep[],
  ) {
    super(message);
  }
}

/** The bank's cookies (interaction and session), sent back to the bank's hosts. */
class CookieJar {
  readonly #cookies = new Map<string, string>();

  store(response: { headers: { getSetCookie(): string[] } }): void {
    for (const line of response.headers.getSetCookie()) {
      const [pair = '', ...attributes] = line.split(';');
      const index = pair.indexOf('=');
      if (index <= 0) continue;
      const name = pair.slice(0, index).trim();
      const value = pair.slice(index + 1).trim();
      const expired = attributes.some((a) => /^\s*expires=/i.test(a) && Date.parse(a.split('=')[1] ?? '') <= Date.now());
      if (value === '' || expired) this.#cookies.delete(name);
      else this.#cookies.set(name, value);
    }
  }

  header(): string {
    return [...this.#cookies].map(([name, value]) => `${name}=${value}`).join('; ');
  }
}

/** Where a bank page posts its form: the form's `action`, else the page itself. */
function formAction(html: string, pageUrl: string): string {
  const action = /<form[^>]*\saction="([^"]*)"/i.exec(html)?.[1];
  return new URL(action ? action.replace(/&amp;/g, '&') : pageUrl, pageUrl).href;
}

const MAX_STEPS = 12;

/**
 * Completes an SCA at the bank the way the PSU's browser would, and returns the URL the bank sends the browser
 * back to (it is not followed: that is the TPP's). The bank's pages are on the start URL's origin; the first
 * redirect anywhere else is the way back.
 *
 * @example
 * const { returnUrl } = await authoriseAtBank(links.scaRedirect.href, { ca, psuId: 'max.mustermann' });
 * returnUrl.searchParams.get('code'); // the authorisation confirmation code
 */
export async function authoriseAtBank(url: string | URL, options: HeadlessPsuOptions): Promise<{ returnUrl: URL; steps: readonly HeadlessStep[] }> {
  const dispatcher = new Agent({ connect: { ca: options.ca } });
  const jar = new CookieJar();
  const steps: HeadlessStep[] = [];
  const start = new URL(url);
  const isBank = (target: URL) => target.origin === start.origin;
  const form = new URLSearchParams({
    psu_id: options.psuId,
    password: options.password ?? SANDBOX_PASSWORD,
    otp: options.otp ?? SANDBOX_OTP,
    decision: options.decision ?? 'approve',
  });
  for (const iban of options.accounts ?? []) form.append('account', iban);

  async function send(method: 'GET' | 'POST', target: string, body?: URLSearchParams) {
    const response = await fetch(target, {
      method,
      redirect: 'manual',
      headers: { cookie: jar.header(), ...(body ? { 'content-type': 'application/x-www-form-urlencoded' } : {}) },
      body,
      dispatcher,
    });
    jar.store(response);
    const location = response.headers.get('location') ?? undefined;
    steps.push({ method, url: target, status: response.status, location });
    return { response, location: location === undefined ? undefined : new URL(location, target) };
  }

  try {
    let current = start.href;
    let posted = 0;
    while (steps.length < MAX_STEPS) {
      const { response, location } = await send('GET', current);
      if (location) {
        await response.body?.cancel();
        if (!isBank(location)) return { returnUrl: location, steps };
        current = location.href;
        continue;
      }
      const html = await response.text();
      if (response.status !== 200 || !/<form/i.test(html)) {
        throw new HeadlessPsuError(`GET ${current} answered ${response.status} without a redirect or a login form: ${html.slice(0, 300)}`, steps);
      }
      if (++posted > 2) throw new HeadlessPsuError(`the bank showed its login form again after two submissions: ${html.slice(0, 300)}`, steps);
      const submitted = await send('POST', formAction(html, current), form);
      if (!submitted.location) {
        const text = await submitted.response.text();
        throw new HeadlessPsuError(`the bank refused the PSU's form (${submitted.response.status}): ${text.replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' ').slice(0, 300)}`, steps);
      }
      await submitted.response.body?.cancel();
      if (!isBank(submitted.location)) return { returnUrl: submitted.location, steps };
      current = submitted.location.href;
    }
    throw new HeadlessPsuError(`no way back from the bank after ${MAX_STEPS} steps`, steps);
  } finally {
    await dispatcher.close();
  }
}

/**
 * The PSU's app decides a decoupled SCA: `POST <bankControlUrl>/authorisations/<id>/approve|reject` on the sandbox
 * control plane (sandbox.json `banks.<bank>.controlUrl`). Resolves with the authorisation's new scaStatus.
 */
export async function decideInApp(bankControlUrl: string, authorisationId: string, decision: 'approve' | 'reject' = 'approve'): Promise<string> {
  const response = await fetch(`${bankControlUrl}/authorisations/${encodeURIComponent(authorisationId)}/${decision}`, { method: 'POST' });
  const body = (await response.json()) as { scaStatus?: string; error?: string };
  if (!response.ok) throw new Error(`the PSU's app could not ${decision} authorisation ${authorisationId}: ${body.error ?? response.status}`);
  return body.scaStatus ?? '';
}

/**
 * SEB's decoupled login: the PSU opens Mobile BankID with the `autostart_token` of `GET /auth/v3/authorizations/<id>`
 * and signs, through SEB's sandbox simulator `POST <issuer>/open/sb/auth/mock/v1/login`.
 */
export async function signInBankIdApp(sebIssuer: string, autostartToken: string, options: { ca: string; psuId: string }): Promise<void> {
  const dispatcher = new Agent({ connect: { ca: options.ca } });
  try {
    const response = await fetch(`${sebIssuer}/open/sb/auth/mock/v1/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ personal_identity_number: `19${options.psuId}`, start_token: autostartToken }),
      dispatcher,
    });
    if (response.status !== 204) throw new Error(`the BankID simulator answered ${response.status}: ${(await response.text()).slice(0, 300)}`);
  } finally {
    await dispatcher.close();
  }
}

/** What the sandbox PSU types into the TPP's pages for an embedded SCA. */
export function sandboxPsuSecrets(): { readonly password: string; readonly otp: string } {
  return { password: SANDBOX_PASSWORD, otp: SANDBOX_OTP };
}
