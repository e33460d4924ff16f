import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { devConnection, DEV_KEY, problemOf, startHarness, type Harness } from './harness.js';

/** Sends a raw HTTP/1.1 request line, so that no client library normalises the path first. */
function rawRequest(url: string, target: string, headers: Record<string, string>): Promise<{ status: number; body: string }> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname, () => {
      const lines = [`GET ${target} HTTP/1.1`, `Host: ${hostname}:${port}`, 'Connection: close', ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`), '', ''];
      socket.write(lines.join('\r\n'));
    });
    let data = '';
    socket.on('data', (chunk) => (data += chunk.toString()));
    socket.on('end', () => resolve({ status: Number(/^HTTP\/1\.1 (\d{3})/.exec(data)?.[1] ?? 0), body: data.slice(data.indexOf('\r\n\r\n') + 4) }));
    socket.on('error', reject);
  });
}

describe('the surface: routing, caller auth, and no open proxy', () => {
  let h: Harness;
  const psu = { 'x-connection-id': 'seb-sec', 'psu-ip-address': '203.0.113.7' };
  beforeAll(async () => {
    h = await startHarness();
    await h.connect('seb', 'seb-sec');
  });
  afterAll(() => h?.close());

  it('answers GET /healthz and a merged /openapi.json of both banks', async () => {
    expect((await fetch(`${h.url}/healthz`)).status).toBe(200);
    const doc = (await (await fetch(`${h.url}/openapi.json`)).json()) as { openapi: string; paths: Record<string, Record<string, { parameters: { name: string }[] }>> };
    expect(doc.openapi).toBe('3.1.0');
    expect(doc.paths['/seb/ais/accounts']?.get).toBeDefined();
    expect(doc.paths['/sg/aisp/accounts']?.get).toBeDefined();
    expect(doc.paths['/seb/ais/accounts/{account-id}/balances']?.get).toBeDefined();
    const names = doc.paths['/seb/ais/accounts']!.get!.parameters.map((p) => ('name' in p ? p.name : ''));
    expect(names).not.toContain('Authorization');
    expect(names).not.toContain('X-Request-ID');
  });

  it('refuses callers without the internal key, with a problem', async () => {
    const none = await fetch(`${h.url}/seb/ais/accounts`);
    expect(none.status).toBe(401);
    expect((await problemOf(none)).code).toBe('unauthorized');
    const wrong = await fetch(`${h.url}/seb/ais/accounts`, { headers: { authorization: 'Bearer not-the-key' } });
    expect((await problemOf(wrong)).code).toBe('unauthorized');
  });

  it('an unknown route is a 404 problem, a wrong method a 405', async () => {
    const unknown = await h.call('/seb/ais/not-an-operation', { headers: psu });
    expect(unknown.status).toBe(404);
    expect((await problemOf(unknown)).code).toBe('route_not_found');
    expect((await problemOf(await h.call('/nordea/ais/accounts'))).code).toBe('route_not_found');
    const wrongMethod = await h.call('/seb/ais/accounts', { method: 'DELETE', headers: psu });
    expect(wrongMethod.status).toBe(405);
    expect(wrongMethod.headers.get('allow')).toBe('GET');
  });

  it('path tricks never reach another path or host at the bank', async () => {
    await h.resetStats();
    const before = (await h.bankRequests('seb')).length;
    const auth = { Authorization: `Bearer ${DEV_KEY}`, 'X-Connection-Id': 'seb-sec', 'PSU-IP-Address': '203.0.113.7' };
    const targets = [
      '/seb/ais/accounts/../../pis/payments/sepa-credit-transfers/x/status',
      '/seb/ais/accounts/%2e%2e/%2e%2e/admin',
      '/seb/ais/accounts/.%2E/balances',
      '/seb/ais/accounts/%2e%2e%2fadmin/balances',
      '/seb/ais/accounts/a%2Fb/balances',
      '/seb/ais/accounts/a%5Cb/balances',
      '//evil.example/seb/ais/accounts',
      '/seb/ais//accounts',
      'http://evil.example/seb/ais/accounts',
      'https://127.0.0.1:1/seb/ais/accounts',
    ];
    for (const target of targets) {
      const response = await rawRequest(h.url, target, auth);
      expect([400, 404], `${target} → ${response.status} ${response.body}`).toContain(response.status);
    }
    expect((await h.bankRequests('seb')).length).toBe(before);
    expect((await h.stats()).banks.seb.resourceCalls).toEqual({});
  });

  it('a path parameter is encoded, so it cannot add segments at the bank', async () => {
    const response = await h.call('/seb/ais/accounts/acc%3Fx%3D1%23y/balances', { headers: psu });
    expect(response.status).toBe(404); // the bank has no account named "acc?x=1#y"
    const last = (await h.bankRequests('seb')).at(-1)!;
    expect(last.path).toBe('/ais/v7/identified2/accounts/acc%3Fx%3D1%23y/balances');
  });

  it("the caller's Authorization never reaches the bank; the gateway sends the PSU's token and its own X-Request-ID", async () => {
    const response = await h.call('/seb/ais/accounts', { headers: { ...psu, 'x-request-id': 'caller-chosen', signature: 'forged', 'tpp-signature-certificate': 'forged' } });
    expect(response.status).toBe(200);
    const last = (await h.bankRequests('seb')).at(-1)!;
    const stored = await h.gateway.engine.store.get(devConnection('seb-sec'));
    expect(last.headers.authorization).toBe(`Bearer ${stored!.tokens!.accessToken}`);
    expect(JSON.stringify(last.headers)).not.toContain(DEV_KEY);
    expect(last.headers['x-request-id']).not.toBe('caller-chosen');
    expect(last.headers['x-request-id']).toBe(response.headers.get('x-bank-request-id'));
    expect(last.headers.signature).toBeUndefined();
    expect(last.headers['tpp-signature-certificate']).toBeUndefined();
    expect(last.headers['psu-ip-address']).toBe('203.0.113.7');
  });

  it('requires what the bank requires before calling it', async () => {
    const before = (await h.bankRequests('seb')).length;
    const noConnection = await h.call('/seb/ais/accounts', { headers: { 'psu-ip-address': '203.0.113.7' } });
    expect((await problemOf(noConnection)).code).toBe('connection_required');
    const noPsuIp = await h.call('/seb/ais/accounts', { headers: { 'x-connection-id': 'seb-sec' } });
    const problem = await problemOf(noPsuIp);
    expect(problem.code).toBe('bad_request');
    expect(problem.violations).toEqual([{ in: 'header', at: 'header.PSU-IP-Address', message: 'is required' }]);
    const undeclared = await h.call('/seb/ais/accounts?redirect=https://evil.example', { headers: psu });
    expect((await problemOf(undeclared)).code).toBe('bad_request');
    const badEnum = await h.call('/seb/ais/accounts/x/transactions?bookingStatus=all', { headers: psu });
    expect((await problemOf(badEnum)).code).toBe('bad_request');
    const unknownConnection = await h.call('/seb/ais/accounts', { headers: { ...psu, 'x-connection-id': 'nope' } });
    expect((await problemOf(unknownConnection)).code).toBe('connection_not_found');
    expect((await h.bankRequests('seb')).length).toBe(before);
  });

  it('a connection of one bank cannot be used at another', async () => {
    const response = await h.call('/sg/aisp/accounts', { headers: { 'x-connection-id': 'seb-sec' } });
    expect((await problemOf(response)).code).toBe('connection_bank_mismatch');
  });
});
