import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEV_KEY, PSU_IP, startHarness, type Harness } from './harness.js';

/**
 * The two framings of one pipeline: the harness serves the Node fast path (plugin/adapter/node/), and here the same
 * requests also go through the portable Hono app (`gateway.app.fetch`, as an edge runtime or `app.request()`
 * would run it). Both must answer alike: status, media type, problem code, the bank's body and the ids.
 */
describe('the Hono app (app.fetch) and the Node fast path answer alike', () => {
  let h: Harness;
  const psu = { 'x-connection-id': 'parity-seb', 'psu-ip-address': PSU_IP };
  beforeAll(async () => {
    h = await startHarness();
    await h.connect('seb', 'parity-seb');
  });
  afterAll(() => h?.close());

  const viaApp = (path: string, init: { method?: string; headers?: Record<string, string> } = {}) =>
    Promise.resolve(h.gateway.app.fetch(new Request(`http://gateway.test${path}`, { method: init.method ?? 'GET', headers: { authorization: `Bearer ${DEV_KEY}`, ...init.headers } })));
  const viaNode = (path: string, init: { method?: string; headers?: Record<string, string> } = {}) => h.call(path, init);

  async function summary(response: Response) {
    const type = response.headers.get('content-type') ?? '';
    const body = (await response.json()) as Record<string, unknown>;
    return {
      status: response.status,
      type: type.split(';')[0],
      code: type.startsWith('application/problem+json') ? body.code : undefined,
      accounts: Array.isArray(body.accounts) ? body.accounts.length : undefined,
      requestId: response.headers.get('x-request-id') !== null,
      bankRequestId: response.headers.get('x-bank-request-id') !== null,
      allow: response.headers.get('allow'),
    };
  }

  const cases: Array<[string, string, { method?: string; headers?: Record<string, string> }]> = [
    ['a bank call', '/seb/ais/accounts', { headers: psu }],
    ['no caller key', '/seb/ais/accounts', { headers: { ...psu, authorization: '' } }],
    ['a wrong caller key', '/seb/ais/accounts', { headers: { ...psu, authorization: 'Bearer not-the-key' } }],
    ['no connection', '/seb/ais/accounts', { headers: { 'psu-ip-address': PSU_IP } }],
    ['an unknown connection', '/seb/ais/accounts', { headers: { ...psu, 'x-connection-id': 'nope' } }],
    ['a missing bank header', '/seb/ais/accounts', { headers: { 'x-connection-id': 'parity-seb' } }],
    ['an undeclared query parameter', '/seb/ais/accounts?evil=1', { headers: psu }],
    ['a wrong method', '/seb/ais/accounts', { method: 'DELETE', headers: psu }],
    ['an unknown operation', '/seb/ais/not-an-operation', { headers: psu }],
    ['an unknown bank', '/nordea/ais/accounts', { headers: psu }],
  ];

  it.each(cases)('%s', async (_name, path, init) => {
    const [node, app] = await Promise.all([viaNode(path, init).then(summary), viaApp(path, init).then(summary)]);
    expect(node).toEqual(app);
  });

  it('a caller request id is echoed by both', async () => {
    const headers = { ...psu, 'x-request-id': 'caller-req-42' };
    expect((await viaNode('/seb/ais/accounts', { headers })).headers.get('x-request-id')).toBe('caller-req-42');
    expect((await viaApp('/seb/ais/accounts', { headers })).headers.get('x-request-id')).toBe('caller-req-42');
  });

  it('both count the call in the same metrics', async () => {
    const count = () => h.gateway.metrics.value('bankgate_requests_total', { bank: 'seb', api: 'ais', operation: 'getAccountList', status: '200' }) ?? 0;
    const before = count();
    await viaNode('/seb/ais/accounts', { headers: psu });
    await viaApp('/seb/ais/accounts', { headers: psu });
    expect(count()).toBe(before + 2);
  });
});
