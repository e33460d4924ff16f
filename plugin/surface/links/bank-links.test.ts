import { describe, expect, it } from 'vitest';
import type { ResolvedApi, ResolvedBank } from '../../config/resolve-config.js';
import type { ApiManifest, RouteManifest } from '../../manifest/types.js';
import { MetricsRegistry } from '../../observability/metrics.js';
import { RouteTable } from '../route-table.js';
import { BankLinkMapper, containsAscii, linkCounter, LINK_METRIC, rewriteAnswerLinks, rewriteJsonLinks } from './bank-links.js';

const route = (method: RouteManifest['method'], path: string, operationId: string): RouteManifest => ({
  operationId,
  method,
  path,
  params: { path: [], query: [], header: [] },
  scopes: [],
  tokenKind: 'none',
});

function bankOf(name: string, apis: Record<string, { base: string; routes: RouteManifest[] }>): ResolvedBank {
  const map = new Map<string, ResolvedApi>();
  for (const [api, { base, routes }] of Object.entries(apis)) {
    const manifest: ApiManifest = { bank: name, api, title: api, version: '1', servers: [base], specSha256: 'x', routes };
    map.set(api, { name: api, manifest, baseUrl: new URL(base) });
  }
  return { name, apis: map } as unknown as ResolvedBank;
}

// SEB-like: APIs under versioned base paths on one host, hrefs relative to the API base.
const seb = bankOf('seb', {
  ais: {
    base: 'https://api.seb.example/ais/v7/identified2',
    routes: [route('get', '/accounts', 'list'), route('get', '/accounts/{account-id}/balances', 'balances'), route('get', '/accounts/{account-id}/transactions', 'transactions')],
  },
  pis: { base: 'https://api.seb.example/pis/v7/identified2', routes: [route('get', '/payments/{payment-product}/{payment-id}/status', 'status')] },
});
// Berlin-Group-like: the API at the host's root.
const bg = bankOf('bg', { xs2a: { base: 'https://bg.example', routes: [route('get', '/v1/accounts/{account-id}', 'account'), route('post', '/v1/consents/{consentId}/authorisations', 'startAuthorisation')] } });
const table = new RouteTable(new Map([['seb', seb], ['bg', bg]]));
const sebLinks = new BankLinkMapper(seb, table);
const bgLinks = new BankLinkMapper(bg, table);
const ais = seb.apis.get('ais')!;
const xs2a = bg.apis.get('xs2a')!;

describe('BankLinkMapper', () => {
  it('maps absolute, origin-relative and base-relative hrefs of declared operations to gateway paths', () => {
    expect(sebLinks.toGateway('https://api.seb.example/ais/v7/identified2/accounts/A1/balances', ais)).toBe('/seb/ais/accounts/A1/balances');
    expect(sebLinks.toGateway('/ais/v7/identified2/accounts/A1/transactions?bookingStatus=booked', ais)).toBe('/seb/ais/accounts/A1/transactions?bookingStatus=booked');
    expect(sebLinks.toGateway('/accounts/A1/balances', ais)).toBe('/seb/ais/accounts/A1/balances');
    // Another API of the same bank, by its own base.
    expect(sebLinks.toGateway('https://api.seb.example/pis/v7/identified2/payments/sepa/P1/status', ais)).toBe('/seb/pis/payments/sepa/P1/status');
    expect(bgLinks.toGateway('/v1/accounts/X', xs2a)).toBe('/bg/xs2a/v1/accounts/X');
    // A POST-only operation is still an operation the gateway serves at that path.
    expect(bgLinks.toGateway('https://bg.example/v1/consents/C1/authorisations', xs2a)).toBe('/bg/xs2a/v1/consents/C1/authorisations');
  });

  it('answers a repeated href from its memo per answering API: a relative href means what its API makes of it', () => {
    const pis = seb.apis.get('pis')!;
    for (let round = 0; round < 2; round++) {
      expect(sebLinks.toGateway('/accounts/A9/balances', ais)).toBe('/seb/ais/accounts/A9/balances');
      // From the PIS API, `/accounts/A9/balances` is relative to the PIS base, where no such operation exists.
      expect(sebLinks.toGateway('/accounts/A9/balances', pis)).toBeUndefined();
      expect(sebLinks.toGateway('/payments/sepa/P9/status', pis)).toBe('/seb/pis/payments/sepa/P9/status');
    }
  });

  it('leaves what names nothing the gateway serves: web pages, other hosts, undeclared paths, tricks', () => {
    expect(bgLinks.toGateway('https://bg.example/sca/redirect?id=1', xs2a)).toBeUndefined();
    expect(sebLinks.toGateway('https://evil.example/ais/v7/identified2/accounts/A1/balances', ais)).toBeUndefined();
    expect(sebLinks.toGateway('http://api.seb.example/ais/v7/identified2/accounts/A1/balances', ais)).toBeUndefined();
    expect(sebLinks.toGateway('/ais/v7/identified2/accounts/A1/standing-orders', ais)).toBeUndefined();
    expect(sebLinks.toGateway('/ais/v7/identified2/accounts/A1%2F..%2Fx/balances', ais)).toBeUndefined();
    // Dot segments resolve as any client would (here to /ais/v7/pis/…, which is no operation).
    expect(sebLinks.toGateway('/ais/v7/identified2/accounts/../../pis/v7/identified2/payments/sepa/P1/status', ais)).toBeUndefined();
    expect(sebLinks.toGateway('', ais)).toBeUndefined();
    expect(sebLinks.toGateway('javascript:alert(1)', ais)).toBeUndefined();
  });
});

describe('rewriteJsonLinks', () => {
  const map = (href: string) => (href.startsWith('/bank/') ? `/gw${href.slice(5)}` : undefined);

  it('rewrites HAL links at any depth, link arrays, and UK Links strings; keeps everything else', () => {
    const body = {
      accounts: [{ resourceId: 'A1', _links: { balances: { href: '/bank/a1/balances' }, web: { href: 'https://bank/web' } } }],
      _links: { self: { href: '/bank/accounts' }, items: [{ href: '/bank/a1' }, { href: '/other' }] },
      _embedded: { x: { _links: { self: { href: '/bank/x', templated: false } } } },
      Links: { Self: '/bank/uk', First: 42 },
      note: '/bank/not-a-link',
    };
    expect(JSON.parse(rewriteJsonLinks(JSON.stringify(body), map)!)).toEqual({
      accounts: [{ resourceId: 'A1', _links: { balances: { href: '/gw/a1/balances' }, web: { href: 'https://bank/web' } } }],
      _links: { self: { href: '/gw/accounts' }, items: [{ href: '/gw/a1' }, { href: '/other' }] },
      _embedded: { x: { _links: { self: { href: '/gw/x', templated: false } } } },
      Links: { Self: '/gw/uk', First: 42 },
      note: '/bank/not-a-link',
    });
  });

  it('answers undefined when nothing changed or the text is not JSON', () => {
    expect(rewriteJsonLinks('{"_links":{"web":{"href":"https://bank/web"}}}', map)).toBeUndefined();
    expect(rewriteJsonLinks('{"_links": ', map)).toBeUndefined();
  });
});

describe('rewriteAnswerLinks', () => {
  const encoder = new TextEncoder();
  const decoder = new TextDecoder();

  it('points Location and body links at the gateway under its prefix, and counts both outcomes', () => {
    const metrics = new MetricsRegistry();
    const links = { mapper: sebLinks, api: ais, prefix: '/banks', counter: linkCounter(metrics, 'seb') };
    const answer = {
      status: 201,
      headers: { 'content-type': 'application/hal+json; charset=utf-8', location: 'https://api.seb.example/ais/v7/identified2/accounts/A1/balances' },
      body: encoder.encode(JSON.stringify({ _links: { balances: { href: '/accounts/A1/balances' }, sca: { href: 'https://id.seb.example/sca' } } })),
    };
    const out = rewriteAnswerLinks(answer, links);
    expect(out.headers.location).toBe('/banks/seb/ais/accounts/A1/balances');
    expect(JSON.parse(decoder.decode(out.body))._links).toEqual({ balances: { href: '/banks/seb/ais/accounts/A1/balances' }, sca: { href: 'https://id.seb.example/sca' } });
    expect(metrics.value(LINK_METRIC, { bank: 'seb', outcome: 'rewritten' })).toBe(2);
    expect(metrics.value(LINK_METRIC, { bank: 'seb', outcome: 'unmapped' })).toBe(1);
  });

  it('keeps a link absolute when the bank sent it absolute (UK `Links.Self` is a URI), under the gateway’s public URL', () => {
    const links = { mapper: sebLinks, api: ais, prefix: '/banks', counter: linkCounter(new MetricsRegistry(), 'seb'), publicUrl: () => 'https://gw.example' };
    const answer = {
      status: 201,
      headers: { 'content-type': 'application/json', location: 'https://api.seb.example/ais/v7/identified2/accounts/A1/balances' },
      body: encoder.encode(JSON.stringify({ Links: { Self: 'https://api.seb.example/ais/v7/identified2/accounts/A1/balances' }, _links: { balances: { href: '/accounts/A1/balances' } } })),
    };
    const out = rewriteAnswerLinks(answer, links);
    expect(out.headers.location).toBe('https://gw.example/banks/seb/ais/accounts/A1/balances');
    const body = JSON.parse(decoder.decode(out.body));
    expect(body.Links.Self).toBe('https://gw.example/banks/seb/ais/accounts/A1/balances');
    expect(body._links.balances.href).toBe('/banks/seb/ais/accounts/A1/balances');
  });

  it('returns the same answer object, bytes untouched, when there is nothing to rewrite', () => {
    const counter = linkCounter(new MetricsRegistry(), 'seb');
    const plain = { status: 200, headers: { 'content-type': 'application/json' }, body: encoder.encode('{"accounts":[]}') };
    expect(rewriteAnswerLinks(plain, { mapper: sebLinks, api: ais, prefix: '', counter })).toBe(plain);
    const xml = { status: 200, headers: { 'content-type': 'application/xml' }, body: encoder.encode('<a _links="x"/>') };
    expect(rewriteAnswerLinks(xml, { mapper: sebLinks, api: ais, prefix: '', counter })).toBe(xml);
  });
});

describe('containsAscii', () => {
  it('finds a needle anywhere, including at the end, and not a partial one', () => {
    const bytes = new TextEncoder().encode('{"a":1,"_links":{}}');
    expect(containsAscii(bytes, '"_links"')).toBe(true);
    expect(containsAscii(bytes, '{}}')).toBe(true);
    expect(containsAscii(bytes, '"_linkz"')).toBe(false);
    expect(containsAscii(new Uint8Array(), '"_links"')).toBe(false);
    // At the very start, an anchor character with no needle around it, a needle cut off at the end.
    expect(containsAscii(new TextEncoder().encode('"_links":1'), '"_links"')).toBe(true);
    expect(containsAscii(new TextEncoder().encode('_links"_link'), '"_links"')).toBe(false);
    expect(containsAscii(new TextEncoder().encode('"x_"_links"'), '"_links"')).toBe(true);
    expect(containsAscii(new TextEncoder().encode('a'), 'a')).toBe(true);
  });
});
