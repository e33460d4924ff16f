/**
 * Drives a sandbox bank's consent without a browser, the way a script or an end-to-end test does:
 *
 *   GET  authorizeUrl            → 303 /interaction/<uid>       (sets the interaction cookies)
 *   POST /interaction/<uid>      psu_id=<id>  → 303 resume URL   (PSU logged in and consent granted in one step)
 *   GET  resume URL              → 303 redirect_uri?code&state&iss
 *
 * and returns the final redirect (the client's callback URL) without following it.
 */
import { Agent, fetch } from 'undici';

export interface HeadlessConsentOptions {
  /** PEM of the CA that signed the bank's server certificate (sandbox.json `caFile`'s content). */
  readonly ca: string;
  /** Sandbox PSU id (sandbox.json `psuIds`). */
  readonly psuId: string;
  /** More fields of the consent form, for banks that ask more than the PSU (UK-OB-like: `accounts`, `decision`). */
  readonly form?: Readonly<Record<string, string>>;
}

export interface HeadlessConsentStep {
  readonly method: 'GET' | 'POST';
  readonly url: string;
  readonly status: number;
  readonly location: string | undefined;
}

export interface HeadlessConsentResult {
  /** The redirect_uri with `code`, `state` and `iss` (or `error`) as the bank sent it. */
  readonly callbackUrl: URL;
  readonly steps: readonly HeadlessConsentStep[];
}

/** A minimal cookie jar: the interaction and session cookies the bank sets, sent back to the same origin. */
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

export class HeadlessConsentError extends Error {
  constructor(
    message: string,
    readonly steps: readonly HeadlessConsentStep[],
  ) {
    super(message);
    this.name = 'HeadlessConsentError';
  }
}

/**
 * Consents as a sandbox PSU.
 *
 * @example
 * const { callbackUrl } = await consentHeadlessly(authorizeUrl, { ca: readFileSync(file.caFile, 'utf8'), psuId: '9311219639' });
 * callbackUrl.searchParams.get('code');
 */
export async function consentHeadlessly(authorizeUrl: string | URL, options: HeadlessConsentOptions): Promise<HeadlessConsentResult> {
  const dispatcher = new Agent({ connect: { ca: options.ca } });
  const jar = new CookieJar();
  const steps: HeadlessConsentStep[] = [];
  const origin = new URL(authorizeUrl).origin;

  async function step(method: 'GET' | 'POST', url: string, body?: URLSearchParams): Promise<string> {
    const response = await fetch(url, {
      method,
      redirect: 'manual',
      headers: { cookie: jar.header(), ...(body ? { 'content-type': 'application/x-www-form-urlencoded' } : {}) },
      body,
      dispatcher,
    });
    jar.store(response);
    const location = response.headers.get('location') ?? undefined;
    steps.push({ method, url, status: response.status, location });
    if (response.status !== 303 && response.status !== 302) {
      const text = await response.text();
      throw new HeadlessConsentError(`${method} ${url} answered ${response.status}, not a redirect: ${text.slice(0, 300)}`, steps);
    }
    await response.body?.cancel();
    if (!location) throw new HeadlessConsentError(`${method} ${url} answered ${response.status} without Location`, steps);
    return new URL(location, url).href;
  }

  try {
    const interaction = await step('GET', new URL(authorizeUrl).href);
    if (new URL(interaction).origin !== origin || !new URL(interaction).pathname.startsWith('/interaction/')) {
      // The bank answered at once (an error, or an existing grant): that is the callback.
      return { callbackUrl: new URL(interaction), steps };
    }
    const resume = await step('POST', interaction, new URLSearchParams({ ...options.form, psu_id: options.psuId }));
    const callback = await step('GET', resume);
    return { callbackUrl: new URL(callback), steps };
  } finally {
    await dispatcher.close();
  }
}
