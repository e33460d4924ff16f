import { describe, expect, it } from 'vitest';
import type { ResolvedBank } from '../config/resolve-config.js';
import type { ApiManifest, RouteManifest } from '../manifest/types.js';
import { ConfigError } from '../config/resolve-config.js';
import { findRouteCollisions, RouteTable } from './route-table.js';

const route = (method: RouteManifest['method'], path: string, operationId: string, enums: Record<string, string[]> = {}): RouteManifest => ({
  operationId,
  method,
  path,
  params: { path: Object.entries(enums).map(([name, values]) => ({ name, required: true, type: 'string', enum: values })), query: [], header: [] },
  scopes: [],
  tokenKind: 'none',
});

function table(routes: RouteManifest[]) {
  const manifest: ApiManifest = { bank: 'b', api: 'a', title: 't', version: '1', servers: ['https://bank.example/v1'], specSha256: 'x', routes };
  const bank = { name: 'b', apis: new Map([['a', { name: 'a', manifest, baseUrl: new URL('https://bank.example/v1') }]]) } as unknown as ResolvedBank;
  return new RouteTable(new Map([['b', bank]]));
}

describe('RouteTable', () => {
  const t = table([
    route('get', '/payments/{payment-product}/{paymentId}', 'getPayment'),
    route('get', '/payments/{payment-product}/status', 'literalWins'),
    route('post', '/payments/{payment-product}', 'initiate'),
    route('get', '/accounts', 'accounts'),
  ]);

  it('matches literals before parameters, whatever the spec order', () => {
    const match = t.match('GET', ['b', 'a', 'payments', 'sepa', 'status']);
    expect(match && 'mounted' in match && match.mounted.route.operationId).toBe('literalWins');
    const byId = t.match('GET', ['b', 'a', 'payments', 'sepa', 'p-1']);
    expect(byId && 'mounted' in byId && byId.params).toEqual({ 'payment-product': 'sepa', paymentId: 'p-1' });
  });

  it('tells the allowed methods of a known path, and nothing of an unknown one', () => {
    expect(t.match('GET', ['b', 'a', 'payments', 'sepa'])).toEqual({ allowed: ['POST'] });
    expect(t.match('GET', ['b', 'a', 'nope'])).toBeUndefined();
    expect(t.match('GET', ['b', 'other', 'accounts'])).toBeUndefined();
    expect(t.match('GET', ['b'])).toBeUndefined();
  });

  it('mounts every route under /{bank}/{api}', () => {
    expect(t.routes.map((r) => r.gatewayPath)).toContain('/b/a/accounts');
  });
});

describe('RouteTable with enum path parameters (Berlin Group)', () => {
  const service = { 'payment-service': ['payments', 'bulk-payments', 'periodic-payments'] };
  const routes = [
    route('get', '/v1/{payment-service}/{payment-product}/{paymentId}', 'getPaymentInformation', service),
    route('get', '/v1/accounts/{account-id}/balances', 'getBalances'),
    route('get', '/v1/consents/{consentId}/status', 'getConsentStatus'),
    route('get', '/v1/{payment-service}/{payment-product}/{paymentId}/status', 'getPaymentInitiationStatus', service),
  ];
  const t = table(routes);
  const operationOf = (path: string) => {
    const match = t.match('GET', ['b', 'a', ...path.split('/').filter(Boolean)]);
    return match && 'mounted' in match ? match.mounted.route.operationId : match;
  };

  it('routes overlapping templates by the enum, whatever the order', () => {
    expect(operationOf('/v1/accounts/x/balances')).toBe('getBalances');
    expect(operationOf('/v1/payments/sepa-credit-transfers/p1/status')).toBe('getPaymentInitiationStatus');
    expect(operationOf('/v1/consents/c1/status')).toBe('getConsentStatus');
    expect(operationOf('/v1/bulk-payments/sepa/p1')).toBe('getPaymentInformation');
    // Not one of the enum's values: no declared operation, so nothing is forwarded.
    expect(operationOf('/v1/accounts/x/y/status')).toBeUndefined();
    expect(operationOf('/v1/loans/x/p1')).toBeUndefined();
    expect(findRouteCollisions(routes)).toEqual([]);
  });

  it('finds true collisions and the mount refuses them, naming both operations', () => {
    const colliding = [
      route('get', '/v1/{kind}/{id}', 'getByKind'),
      route('get', '/v1/accounts/{id}', 'getAccount'), // more specific: no collision
      route('get', '/v1/{kind}/summary', 'getSummary'), // vs getAccount: /v1/accounts/summary, neither narrower
      route('post', '/v1/{kind}/summary', 'postSummary'), // another method: no collision
      route('get', '/v2/{a}', 'first'),
      route('get', '/v2/{b}', 'second'), // identical sets
      route('get', '/v3/{x}', 'x', { x: ['a', 'b'] }),
      route('get', '/v3/{y}', 'y', { y: ['b', 'c'] }), // enums overlap on b
      route('get', '/v4/{x}', 'x4', { x: ['a'] }),
      route('get', '/v4/{y}', 'y4', { y: ['b'] }), // disjoint enums
    ];
    const found = findRouteCollisions(colliding).map((c) => `${c.a.operationId}~${c.b.operationId}@${c.example}`);
    expect(found).toEqual(['getAccount~getSummary@/v1/accounts/summary', 'first~second@/v2/{a}', 'x~y@/v3/b']);
    expect(() => table(colliding)).toThrow(ConfigError);
    expect(() => table(colliding)).toThrow(
      'banks.b.apis.a: routes collide: GET /v1/accounts/{id} (getAccount) and GET /v1/{kind}/summary (getSummary) both match /v1/accounts/summary and neither is more specific',
    );
  });
});
