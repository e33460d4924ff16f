import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { consentHeadlessly } from '../../sandbox/headless-consent.js';
import { PSU_IP, problemOf, startHarness, type Harness } from '../e2e/harness.js';
import { readFileSync } from 'node:fs';
import { SG_PAYMENT } from '../fixtures/sg-payment.js';
import { startTestIssuer, type TestIssuer } from './jwks-server.js';

const KEY_B = 'static-key-of-service-b-0123456789';
const KEY_SG_ONLY = 'static-key-of-service-sg-0123456789';

describe('callers: JWTs against a JWKS, static keys, permissions, and isolation of connections', () => {
  let h: Harness;
  let issuer: TestIssuer;
  let tokenA: string;
  const as = (credential: string) => ({ authorization: `Bearer ${credential}` });

  beforeAll(async () => {
    issuer = await startTestIssuer();
    h = await startHarness({
      adjust: (config) => {
        config.callers = {
          jwt: { issuer: issuer.issuer, audience: 'bankgate', jwksUrl: issuer.jwksUrl, allow: { 'svc-a': ['*'] } },
          keys: { 'svc-b': { key: { value: KEY_B }, allow: ['*'] }, 'svc-sg': { key: { value: KEY_SG_ONLY }, allow: ['sg/*'] } },
        };
      },
    });
    tokenA = await issuer.sign({ sub: 'svc-a' });
    // Caller A (a JWT) creates a connection and its PSU consents.
    const created = await h.call('/connections', { method: 'POST', headers: as(tokenA), body: { bank: 'seb', connectionId: 'conn-of-a' } });
    expect(created.status).toBe(201);
    const { authorizeUrl } = (await created.json()) as { authorizeUrl: string };
    const { callbackUrl } = await consentHeadlessly(authorizeUrl, { ca: readFileSync(h.sandbox.caFile, 'utf8'), psuId: h.sandbox.banks.seb.psuIds[0]! });
    expect((await fetch(callbackUrl)).status).toBe(200);
  });
  afterAll(async () => {
    await h?.close();
    await issuer?.close();
  });

  const accounts = (credential: string, connection = 'conn-of-a') => h.call('/seb/ais/accounts', { headers: { ...as(credential), 'x-connection-id': connection, 'psu-ip-address': PSU_IP } });

  it('accepts a JWT from the configured issuer', async () => {
    expect((await accounts(tokenA)).status).toBe(200);
  });

  it.each([
    ['a wrong audience', () => issuer.sign({ sub: 'svc-a' }, { audience: 'someone-else' }), 'claim aud'],
    ['an expired token', () => issuer.sign({ sub: 'svc-a' }, { expiresIn: Math.floor(Date.now() / 1000) - 3600 }), 'expired'],
    ['another issuer', () => issuer.sign({ sub: 'svc-a' }, { issuer: 'https://evil.test' }), 'claim iss'],
    ['a key the issuer does not publish', () => issuer.sign({ sub: 'svc-a' }, { key: issuer.strangerKey }), ''],
  ])('rejects %s with 401', async (_name, make, reason) => {
    const response = await accounts(await make());
    expect(response.status).toBe(401);
    const problem = await problemOf(response);
    expect(problem.code).toBe('unauthorized');
    expect(problem.detail).toContain(reason);
  });

  it('rejects an unsigned JWT (alg none)', async () => {
    const b64 = (v: object) => Buffer.from(JSON.stringify(v)).toString('base64url');
    const unsigned = `${b64({ alg: 'none', typ: 'JWT' })}.${b64({ sub: 'svc-a', iss: issuer.issuer, aud: 'bankgate', exp: Math.floor(Date.now() / 1000) + 300 })}.`;
    const response = await accounts(unsigned);
    expect(response.status).toBe(401);
    expect((await problemOf(response)).code).toBe('unauthorized');
  });

  it("caller B cannot use, see or delete caller A's connection, and gets the same answer as for one that does not exist", async () => {
    const strip = (p: Record<string, unknown>) => ({ ...p, detail: String(p.detail).replace(/conn-of-a|no-such-connection/, 'X'), instance: undefined });
    const foreign = await accounts(KEY_B);
    const missing = await accounts(KEY_B, 'no-such-connection');
    expect(foreign.status).toBe(404);
    expect(missing.status).toBe(404);
    expect(strip(await problemOf(foreign))).toEqual(strip(await problemOf(missing)));

    const peek = await h.call('/connections/conn-of-a', { headers: as(KEY_B) });
    const peekMissing = await h.call('/connections/no-such-connection', { headers: as(KEY_B) });
    expect(peek.status).toBe(404);
    expect(strip(await problemOf(peek))).toEqual(strip(await problemOf(peekMissing)));

    expect((await h.call('/connections/conn-of-a', { method: 'DELETE', headers: as(KEY_B) })).status).toBe(404);
    // Connection ids are per caller (finding 7): B's `conn-of-a` is B's own, new connection; no 409 tells B
    // that another caller uses the name, and A's connection is untouched.
    const reuse = await h.call('/connections', { method: 'POST', headers: as(KEY_B), body: { bank: 'sg', connectionId: 'conn-of-a' } });
    expect(reuse.status).toBe(201);
    expect(await reuse.json()).toMatchObject({ connectionId: 'conn-of-a', bank: 'sg', status: 'pending' });
    expect(await (await h.call('/connections/conn-of-a', { headers: as(KEY_B) })).json()).toMatchObject({ bank: 'sg', status: 'pending' });
    expect(await (await h.call('/connections/conn-of-a', { headers: as(tokenA) })).json()).toMatchObject({ bank: 'seb', status: 'active' });
    expect((await accounts(tokenA)).status).toBe(200);
    expect((await h.call('/connections/conn-of-a', { method: 'DELETE', headers: as(KEY_B) })).status).toBe(200);
    expect((await accounts(tokenA)).status).toBe(200);
  });

  it('a JWT whose sub names a static caller is another caller: it sees none of its connections (finding 6)', async () => {
    const byKey = await h.call('/connections', { method: 'POST', headers: as(KEY_B), body: { bank: 'seb', connectionId: 'conn-of-b' } });
    expect(byKey.status).toBe(201);
    const impostor = await issuer.sign({ sub: 'svc-b' });
    for (const [method, path] of [['GET', '/connections/conn-of-b'], ['DELETE', '/connections/conn-of-b']] as const) {
      const response = await h.call(path, { method, headers: as(impostor) });
      expect(response.status).toBe(404);
      expect((await problemOf(response)).code).toBe('connection_not_found');
    }
    // Not even its permissions: the JWT `svc-b` has the JWT default (none), the key `svc-b` has '*'.
    const call = await accounts(impostor, 'conn-of-b');
    expect(call.status).toBe(403);
    expect((await h.call('/connections/conn-of-b', { headers: as(KEY_B) })).status).toBe(200);
  });

  it('two callers creating the same new id at once each get their own connection (findings 4 and 7)', async () => {
    const both = await Promise.all([KEY_B, tokenA].map((credential) => h.call('/connections', { method: 'POST', headers: as(credential), body: { bank: 'seb', connectionId: 'race-id' } })));
    expect(both.map((r) => r.status)).toEqual([201, 201]);
    const [urlB, urlA] = await Promise.all(both.map(async (r) => ((await r.json()) as { authorizeUrl: string }).authorizeUrl));
    expect(urlA).not.toBe(urlB);
    for (const [credential, authorizeUrl] of [[tokenA, urlA!], [KEY_B, urlB!]] as const) {
      const { callbackUrl } = await consentHeadlessly(authorizeUrl, { ca: readFileSync(h.sandbox.caFile, 'utf8'), psuId: h.sandbox.banks.seb.psuIds[0]! });
      expect((await fetch(callbackUrl)).status).toBe(200);
      expect((await accounts(credential, 'race-id')).status).toBe(200);
    }
  });

  it('GET and DELETE /connections/{id} need a permission on its bank (finding 6)', async () => {
    // A connection at SEB owned by the sg-only caller: as if its permissions were narrowed after it consented.
    const created = await h.gateway.engine.store.create({ id: 'old-seb', bank: 'seb', owner: 'key:svc-sg', status: 'active', scopes: ['accounts'], createdAt: Date.now(), updatedAt: Date.now() });
    expect(created?.revision).toBe(1);
    for (const method of ['GET', 'DELETE']) {
      const response = await h.call('/connections/old-seb', { method, headers: as(KEY_SG_ONLY) });
      expect(response.status).toBe(403);
      expect((await problemOf(response)).code).toBe('forbidden');
    }
    expect(await h.gateway.engine.store.get('key:svc-sg/old-seb')).toMatchObject({ status: 'active' });
  });

  it.each(['__proto__', 'constructor', 'toString', 'hasOwnProperty'])('a JWT with sub %s is an ordinary caller without permissions, never a 500 (finding 8)', async (sub) => {
    const token = await issuer.sign({ sub });
    const call = await accounts(token, 'anything');
    expect(call.status).toBe(403);
    expect((await problemOf(call)).code).toBe('forbidden');
    const view = await h.call('/connections/anything', { headers: as(token) });
    expect(view.status).toBe(404);
    const create = await h.call('/connections', { method: 'POST', headers: as(token), body: { bank: 'seb' } });
    expect(create.status).toBe(403);
  });

  it('permissions: a caller allowed only sg/* cannot call SEB or start a consent there', async () => {
    const call = await accounts(KEY_SG_ONLY, 'anything');
    expect(call.status).toBe(403);
    expect((await problemOf(call)).code).toBe('forbidden');
    const consent = await h.call('/connections', { method: 'POST', headers: as(KEY_SG_ONLY), body: { bank: 'seb' } });
    expect(consent.status).toBe(403);
    expect((await h.call('/connections', { method: 'POST', headers: as(KEY_SG_ONLY), body: { bank: 'sg' } })).status).toBe(201);
  });

  it("caller-supplied Authorization, Signature and TPP-* headers never reach the bank", async () => {
    await h.call('/connections', { method: 'POST', headers: as(KEY_SG_ONLY), body: { bank: 'sg' } });
    const response = await h.call('/sg/pisp/payment-requests', {
      method: 'POST',
      headers: { ...as(KEY_SG_ONLY), signature: 'keyId="forged",algorithm="rsa-sha256",headers="x",signature="AAAA"', digest: 'SHA-256=forged', 'tpp-signature-certificate': 'forged', 'tpp-redirect-uri': 'https://evil.example/steal', date: 'Thu, 01 Jan 1970 00:00:00 GMT' },
      body: SG_PAYMENT,
    });
    expect(response.status).toBe(201);
    const seen = (await h.bankRequests('sg')).at(-1)!;
    expect(seen.headers.authorization).toMatch(/^Bearer /);
    expect(seen.headers.authorization).not.toContain(KEY_SG_ONLY);
    expect(seen.headers.signature).not.toContain('forged');
    expect(seen.headers.digest).not.toBe('SHA-256=forged');
    expect(seen.headers['tpp-signature-certificate'] ?? '').not.toBe('forged');
    expect(seen.headers['tpp-redirect-uri']).toBeUndefined();
    expect(JSON.stringify(seen.headers)).not.toContain('evil.example');
  });
});
