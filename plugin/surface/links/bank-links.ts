/**
 * Links in bank answers, pointed back at the gateway. Banks answer with HAL `_links` (Berlin Group, STET, SEB),
 * UK Open Banking `Links`, and `Location` headers, all naming the bank's own URLs. A caller of the gateway can
 * follow none of them: it has no certificate, no bank token, and may not reach the bank at all. A link that names a
 * declared operation of the same bank becomes that operation's gateway path; any other link (an SCA page on the
 * bank's web site, an operation bankgate does not mount) is left as the bank sent it and counted.
 */
import type { ResolvedApi, ResolvedBank } from '../../config/resolve-config.js';
import type { MetricsRegistry } from '../../observability/metrics.js';
import { safePathSegments } from '../path-guard.js';
import { jsonLinkStrings } from './json-link-strings.js';
import type { RouteTable } from '../route-table.js';

export const LINK_METRIC = 'bankgate_bank_links_total';

/** Where one API lives at the bank, for matching hrefs. */
interface ApiBase {
  readonly api: ResolvedApi;
  readonly origin: string;
  /** The API's base path at the bank, without a trailing slash (`/ais/v7/identified2`, or `` at the root). */
  readonly path: string;
}

export interface LinkCounter {
  rewritten(): void;
  unmapped(): void;
}

/**
 * Maps the URLs of one bank's answers to gateway paths. Built once per bank; `toGateway` is called per link.
 * @example mapper.toGateway('https://bank.example/ais/v7/identified2/accounts/1/balances') // '/seb/ais/accounts/1/balances'
 */
export class BankLinkMapper {
  readonly #bases: readonly ApiBase[];
  /**
   * Answers already given, per API that answered (a relative href depends on it): a bank names the same accounts'
   * links call after call, and resolving one (a URL parse, the path guard, a route match) costs microseconds. The
   * mapping never changes while running; a full memo is dropped rather than grown.
   */
  readonly #known = new Map<ResolvedApi, Map<string, string | null>>();

  constructor(
    readonly bank: ResolvedBank,
    private readonly table: RouteTable,
  ) {
    // Longest base path first: `/v1/pis` claims its links before `/v1` does.
    this.#bases = [...bank.apis.values()]
      .map((api) => ({ api, origin: api.baseUrl.origin, path: api.baseUrl.pathname.replace(/\/+$/, '') }))
      .sort((a, b) => b.path.length - a.path.length);
  }

  /**
   * The gateway path (without the mount prefix) of a bank URL, or undefined when it names no operation this
   * gateway serves for the bank. Accepts absolute URLs, origin-relative paths (`/ais/v7/…`) and paths relative to
   * the API's base (`/accounts/1`, as SEB writes them): `context` is the API whose answer carries the link.
   */
  toGateway(href: string, context: ResolvedApi): string | undefined {
    if (href.length === 0 || href.length > 4096) return undefined;
    let known = this.#known.get(context);
    if (known === undefined) this.#known.set(context, (known = new Map()));
    const seen = known.get(href);
    if (seen !== undefined) return seen ?? undefined;
    if (known.size >= MEMO_LIMIT) known.clear();
    const found = this.#resolve(href, context);
    known.set(href, found ?? null);
    return found;
  }

  #resolve(href: string, context: ResolvedApi): string | undefined {
    let url: URL;
    try {
      url = new URL(href, context.baseUrl);
    } catch {
      return undefined;
    }
    const absolute = /^[a-z][a-z0-9+.-]*:/i.test(href);
    for (const base of this.#bases) {
      if (url.origin !== base.origin) continue;
      const rest = withinBase(url.pathname, base.path);
      if (rest !== undefined) {
        const found = this.#declared(base.api, rest);
        if (found) return found + url.search + url.hash;
      }
    }
    // `/accounts/1` from an API based at `/ais/v7/identified2`: relative to that base, as SEB's hrefs are.
    if (!absolute && href.startsWith('/')) {
      const contextPath = context.baseUrl.pathname.replace(/\/+$/, '');
      if (contextPath !== '' && !url.pathname.startsWith(`${contextPath}/`)) {
        const found = this.#declared(context, url.pathname);
        if (found) return found + url.search + url.hash;
      }
    }
    return undefined;
  }

  /** `/{bank}/{api}{rest}` when `rest` is a declared operation's path (any method) of `api`, else undefined. */
  #declared(api: ResolvedApi, rest: string): string | undefined {
    let segments: string[];
    try {
      segments = rest === '' ? [] : safePathSegments(rest);
    } catch {
      return undefined; // a dot segment or an encoded slash is never turned into a gateway path
    }
    const found = this.table.match('GET', [this.bank.name, api.name, ...segments]);
    if (!found) return undefined;
    const mounted = 'allowed' in found ? undefined : found.mounted;
    if (mounted && (mounted.bank !== this.bank || mounted.api !== api)) return undefined;
    return `/${this.bank.name}/${api.name}${rest}`;
  }
}

/** Hrefs remembered per API (each at most 4 KiB): about a bank's worth of accounts and payments in view. */
const MEMO_LIMIT = 2048;

/** The part of `pathname` under `base` (`''` for the base itself), or undefined when it is outside. */
function withinBase(pathname: string, base: string): string | undefined {
  if (base === '') return pathname === '/' ? '' : pathname;
  if (pathname === base || pathname === `${base}/`) return '';
  return pathname.startsWith(`${base}/`) ? pathname.slice(base.length) : undefined;
}

/**
 * Rewrites the links of a JSON answer: every `href` under a `_links` member (HAL: a link object or an array of
 * them, at any depth, `_embedded` included) and every string under a `Links` member (UK Open Banking). Returns the
 * new body, every byte but the rewritten links as the bank sent them, or undefined when no link changed (the caller
 * keeps the bank's bytes; so too for a body that is not JSON). `map` returns the gateway URL for an href, or
 * undefined to leave it.
 */
export function rewriteJsonLinks(text: string, map: (href: string) => string | undefined): string | undefined {
  const links = jsonLinkStrings(text);
  if (links === undefined) return undefined;
  let rewritten = '';
  let from = 0;
  for (const link of links) {
    const mapped = map(link.value);
    if (mapped === undefined || mapped === link.value) continue;
    rewritten += text.slice(from, link.start) + JSON.stringify(mapped);
    from = link.end;
  }
  return from === 0 ? undefined : rewritten + text.slice(from);
}

/**
 * The ASCII bytes of `needle` occur in `bytes` (no decoding, no allocation): the cheap test before any parse.
 * Anchored on the needle's second character (`_` of `"_links"`, `L` of `"Links"`), far rarer in JSON than the
 * opening quote: an answer without links costs a few native `indexOf` scans.
 */
export function containsAscii(bytes: Uint8Array, needle: string): boolean {
  const anchor = needle.length > 1 ? 1 : 0;
  const code = needle.charCodeAt(anchor);
  const last = bytes.length - needle.length + anchor;
  for (let at = bytes.indexOf(code, anchor); at !== -1 && at <= last; at = bytes.indexOf(code, at + 1)) {
    const start = at - anchor;
    let i = 0;
    while (i < needle.length && bytes[start + i] === needle.charCodeAt(i)) i++;
    if (i === needle.length) return true;
  }
  return false;
}

/** Counts links per bank and outcome in `bankgate_bank_links_total{bank,outcome}`. */
export function linkCounter(metrics: MetricsRegistry, bank: string): LinkCounter {
  metrics.describe(LINK_METRIC, 'counter', 'Links in bank answers (HAL _links, Links, Location): rewritten to a gateway path, or left as the bank sent them because they name no operation the gateway serves.');
  const rewritten = metrics.counter(LINK_METRIC, { bank, outcome: 'rewritten' });
  const unmapped = metrics.counter(LINK_METRIC, { bank, outcome: 'unmapped' });
  return { rewritten: () => rewritten.inc(), unmapped: () => unmapped.inc() };
}

/** What rewriting one answer needs: the bank's mapper, the API that answered, where the gateway is mounted. */
export interface AnswerLinks {
  readonly mapper: BankLinkMapper;
  readonly api: ResolvedApi;
  /** The gateway's mount prefix (`''` at the root, `/banks` under a host app), without a trailing slash. */
  readonly prefix: string;
  readonly counter: LinkCounter;
  /**
   * The gateway's public URL (no trailing slash): a link the bank sent absolute stays absolute, under it (UK Open
   * Banking's `Links.Self` is `format: uri`); without it, and for relative links, the gateway path alone.
   */
  readonly publicUrl?: () => string;
}

const ABSOLUTE = /^[a-z][a-z0-9+.-]*:/i;
const decoder = new TextDecoder();
const encoder = new TextEncoder();

/**
 * The answer with its links pointed at the gateway: `Location`, and the HAL `_links` / UK `Links` of a JSON body.
 * A body without either member is returned as is, without decoding or parsing it.
 */
export function rewriteAnswerLinks<T extends { headers: Record<string, string | string[]>; body: Uint8Array | null }>(answer: T, links: AnswerLinks): T {
  const map = (href: string) => {
    const path = links.mapper.toGateway(href, links.api);
    if (path === undefined) {
      links.counter.unmapped();
      return undefined;
    }
    links.counter.rewritten();
    return links.publicUrl !== undefined && ABSOLUTE.test(href) ? `${links.publicUrl()}${links.prefix}${path}` : links.prefix + path;
  };
  let { headers, body } = answer;
  const location = headers.location;
  if (typeof location === 'string') {
    const mapped = map(location);
    if (mapped !== undefined) headers = { ...headers, location: mapped };
  }
  const type = headers['content-type'];
  if (body !== null && typeof type === 'string' && /json/i.test(type) && (containsAscii(body, '"_links"') || containsAscii(body, '"Links"'))) {
    const rewritten = rewriteJsonLinks(decoder.decode(body), map);
    if (rewritten !== undefined) body = encoder.encode(rewritten);
  }
  return headers === answer.headers && body === answer.body ? answer : { ...answer, headers, body };
}
