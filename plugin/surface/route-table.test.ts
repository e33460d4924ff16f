import { describe, expect, it } from 'vitest';
import type { ResolvedBank } from '../config/resolve-config.js';
import type { ApiManifest, RouteManifest } from '../manifest/types.js';
import { RouteTable } from './route-table.js';

const route = (method: RouteManifest['method'], path: string, operationId: string): RouteManifest => ({
  operationId,
  method,
  path,
  params: { path: [], query: [], header: [] },
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
