/**
 * The same UK Open Banking account access through the gateway against the sandbox's FAPI 1.0 Advanced
 * configuration: the authorization request is a PS256 request object by value (`code id_token`, nonce, the intent
 * claim inside), the answer a hybrid response whose id_token is checked as a detached signature (`c_hash`,
 * `s_hash`), the code exchanged with private_key_jwt over mTLS. Then the PSU's token refreshed by the gateway.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import { chromium } from 'playwright-core';
import { FRAGMENT_RELAY_HASH, FRAGMENT_RELAY_SCRIPT } from '../../plugin/surface/connection-routes.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authoriseAsUkobPsu } from '../../sandbox/ukob/headless-psu.js';
import { startUkobGateway, type UkobGateway } from './ukob-gateway.js';

describe('UK Open Banking AIS through the gateway (FAPI 1.0 Advanced sandbox)', () => {
  let g: UkobGateway;
  let skew = 0;
  beforeAll(async () => {
    g = await startUkobGateway('1.0', { now: () => Date.now() + skew });
  });
  afterAll(() => g?.close());

  it('sends the intent-bound request object, checks the detached signature, and serves accounts', async () => {
    const started = await g.begin('ukob-f1');
    const authorize = new URL(started.authorizeUrl);
    expect(authorize.searchParams.get('response_type')).toBe('code id_token');
    const request = authorize.searchParams.get('request')!;
    expect(decodeProtectedHeader(request)).toMatchObject({ alg: 'PS256', kid: g.sandbox.banks.ukob.signing.keyId });
    const claims = decodeJwt(request) as { claims?: { id_token: { openbanking_intent_id: unknown } }; nonce?: string; scope?: string };
    expect(claims.scope).toBe('openid accounts');
    expect(claims.nonce).toBeTruthy();
    expect(claims.claims!.id_token.openbanking_intent_id).toMatchObject({ essential: true, value: expect.stringMatching(/^aac-/) });

    const { params } = await authoriseAsUkobPsu(started.authorizeUrl, { ca: g.ca, psuId: 'ukob-psu-1' });
    // The hybrid response: code, id_token and state in the fragment.
    expect(params.get('id_token')).toBeTruthy();
    // What the callback page does: the fragment relayed as the query.
    const callback = await fetch(`${g.url}/callback/ukob?${params}`);
    expect(callback.status).toBe(200);
    expect(await callback.json()).toMatchObject({ connectionId: 'ukob-f1', status: 'active' });

    const accounts = await g.call('/ukob/aisp/accounts', { headers: { 'x-connection-id': 'ukob-f1' } });
    expect(accounts.status).toBe(200);
    const ids = ((await accounts.json()) as { Data: { Account: { AccountId: string }[] } }).Data.Account.map((a) => a.AccountId).sort();
    expect(ids).toEqual(['acc-ukob1-current', 'acc-ukob1-savings']);
  });

  it('refuses a hybrid response whose id_token belongs to another authorization (the detached signature)', async () => {
    const first = await g.begin('ukob-f1-a');
    const second = await g.begin('ukob-f1-b');
    const a = await authoriseAsUkobPsu(first.authorizeUrl, { ca: g.ca, psuId: 'ukob-psu-1' });
    const b = await authoriseAsUkobPsu(second.authorizeUrl, { ca: g.ca, psuId: 'ukob-psu-1' });
    // a's code and state with b's id_token: c_hash and s_hash do not match, nor the nonce.
    const forged = new URLSearchParams(a.params);
    forged.set('id_token', b.params.get('id_token')!);
    const response = await fetch(`${g.url}/callback/ukob?${forged}`);
    expect(response.status).toBe(502);
    expect(((await response.json()) as { code: string }).code).toBe('consent_failed');
    // The consent engine ends a consent whose authorization response fails its checks (its state is used up).
    expect((await g.call('/connections/ukob-f1-a').then((r) => r.json())) as { status: string }).toMatchObject({ status: 'failed' });
  });

  it('refreshes the PSU token with private_key_jwt over mTLS when it has expired, keeping the intent', async () => {
    const started = await g.begin('ukob-f1-refresh');
    expect((await g.authorise(started.authorizeUrl)).status).toBe(200);
    const before = (await g.tokenRequests()).refresh_token ?? 0;
    skew = 3_600_000; // the gateway's clock an hour on: its token set has expired
    try {
      const accounts = await g.call('/ukob/aisp/accounts', { headers: { 'x-connection-id': 'ukob-f1-refresh' } });
      expect(accounts.status).toBe(200);
    } finally {
      skew = 0;
    }
    expect((await g.tokenRequests()).refresh_token).toBe(before + 1);
  });

  it("relays the hybrid response from the fragment in a real browser (the callback page, its script pinned by CSP)", async () => {
    expect(FRAGMENT_RELAY_HASH).toBe(`sha256-${createHash('sha256').update(FRAGMENT_RELAY_SCRIPT).digest('base64')}`);
    const chromiumPath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
    if (!existsSync(chromiumPath)) throw new Error(`${chromiumPath} not found: npm test installs Debian's chromium (scripts/ensure-test-deps.mjs), or set CHROMIUM_PATH`);
    const started = await g.begin('ukob-f1-browser');
    const { callbackUrl } = await authoriseAsUkobPsu(started.authorizeUrl, { ca: g.ca, psuId: 'ukob-psu-1' });
    expect(callbackUrl.hash.length).toBeGreaterThan(1);
    const browser = await chromium.launch({ executablePath: chromiumPath, args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'] });
    try {
      const page = await browser.newPage();
      // The bank's redirect as the browser follows it: to the gateway's callback, the response in the fragment.
      await page.goto(callbackUrl.href.replace(/^http:\/\/127\.0\.0\.1:\d+/, g.url), { waitUntil: 'load' });
      await page.waitForURL((url) => url.searchParams.has('state'));
      expect(JSON.parse((await page.textContent('body'))!)).toMatchObject({ connectionId: 'ukob-f1-browser', status: 'active' });
    } finally {
      await browser.close();
    }
  });
});
