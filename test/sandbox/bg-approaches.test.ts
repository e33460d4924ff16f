import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bgOAuth, consentBody, startBgSandbox, TPP_REDIRECT, type BgSandbox } from './bg-helpers.js';

/** accounts, balances and transactions of the first account, with Consent-ID (and the token, when given). */
async function readAll(sandbox: BgSandbox, consentId: string, token?: string): Promise<number[]> {
  const headers = { 'consent-id': consentId };
  const list = await sandbox.call('GET', '/v1/accounts', { headers, token });
  if (list.status !== 200) return [list.status];
  const id = list.body.accounts[0].resourceId as string;
  const balances = await sandbox.call('GET', `/v1/accounts/${id}/balances`, { headers, token });
  const transactions = await sandbox.call('GET', `/v1/accounts/${id}/transactions?bookingStatus=both&dateFrom=2000-01-01`, { headers, token });
  return [list.status, balances.status, transactions.status];
}

describe('bg sandbox bank: the SCA approaches of a consent', () => {
  let sandbox: BgSandbox;

  beforeAll(async () => {
    // Deterministic decoupled timings: the app approves only through the control plane (or after an hour of bank
    // time), and a running decoupled SCA may be polled once a minute.
    sandbox = await startBgSandbox({ bg: { decoupledApprovalMs: 3_600_000, decoupledPollIntervalMs: 60_000 } });
  });
  afterAll(async () => {
    await sandbox?.close();
  });

  it('redirect: scaRedirect, the PSU at the bank, the authorisation confirmation, then reads; DELETE terminates', async () => {
    const created = await sandbox.call('POST', '/v1/consents', { headers: { 'tpp-redirect-uri': TPP_REDIRECT }, body: consentBody() });
    expect(created.status).toBe(201);
    expect(created.headers.get('aspsp-sca-approach')).toBe('REDIRECT');
    const { consentId, consentStatus, _links: links } = created.body;
    expect(consentStatus).toBe('received');
    expect(created.headers.get('location')).toBe(`${new URL(sandbox.bg.apis.xs2a!).origin}/psd2/v1/consents/${consentId}`);
    expect(Object.keys(links).sort()).toEqual(['confirmation', 'scaRedirect', 'scaStatus', 'self', 'status']);
    expect(links.scaRedirect.href.startsWith(sandbox.bg.authorizationServer.issuer)).toBe(true);

    // Not authorised yet: reads are refused.
    const early = await sandbox.call('GET', '/v1/accounts', { headers: { 'consent-id': consentId } });
    expect(early.status).toBe(401);
    expect(early.body.tppMessages[0].code).toBe('CONSENT_INVALID');

    const { returnUrl } = await sandbox.psu(links.scaRedirect.href, { psuId: 'max.mustermann' });
    expect(`${returnUrl.origin}${returnUrl.pathname}`).toBe(TPP_REDIRECT);
    const code = returnUrl.searchParams.get('code')!;
    expect(code).toBeTruthy();
    expect((await sandbox.call('GET', links.scaStatus.href)).body.scaStatus).toBe('unconfirmed');
    // Valid only once the TPP confirms: the redirect alone is not enough.
    expect((await sandbox.call('GET', links.status.href)).body.consentStatus).toBe('received');

    const wrong = await sandbox.call('PUT', links.confirmation.href, { body: { confirmationCode: 'forged' } });
    expect(wrong.status).toBe(400);
    expect(wrong.body.tppMessages[0].code).toBe('SCA_INVALID');
    const confirmed = await sandbox.call('PUT', links.confirmation.href, { body: { confirmationCode: code } });
    expect(confirmed.status).toBe(200);
    expect(confirmed.body.scaStatus).toBe('finalised');
    expect((await sandbox.call('GET', links.status.href)).body.consentStatus).toBe('valid');

    expect(await readAll(sandbox, consentId)).toEqual([200, 200, 200]);

    const deleted = await sandbox.call('DELETE', `/v1/consents/${consentId}`);
    expect(deleted.status).toBe(204);
    expect((await sandbox.call('GET', `/v1/consents/${consentId}/status`)).body.consentStatus).toBe('terminatedByTpp');
    const after = await sandbox.call('GET', '/v1/accounts', { headers: { 'consent-id': consentId } });
    expect(after.status).toBe(401);
    expect(after.body.tppMessages[0].code).toBe('CONSENT_INVALID');
    expect((await sandbox.call('DELETE', `/v1/consents/${consentId}`)).body.tppMessages[0].code).toBe('STATUS_INVALID');
  });

  it('redirect: the PSU cancelling at the bank is sent to TPP-Nok-Redirect-URI and the consent is rejected', async () => {
    const nok = 'http://127.0.0.1:4567/sca/bg/failed';
    const created = await sandbox.call('POST', '/v1/consents', { headers: { 'tpp-redirect-uri': TPP_REDIRECT, 'tpp-nok-redirect-uri': nok }, body: consentBody() });
    const { returnUrl } = await sandbox.psu(created.body._links.scaRedirect.href, { psuId: 'max.mustermann', decision: 'deny' });
    expect(returnUrl.href).toBe(nok);
    expect((await sandbox.call('GET', created.body._links.scaStatus.href)).body.scaStatus).toBe('failed');
    expect((await sandbox.call('GET', created.body._links.status.href)).body.consentStatus).toBe('rejected');
  });

  it('OAuth integrated: scaOAuth → RFC 8414 metadata → scope AIS:<consentId> with PKCE → the token is required for reads', async () => {
    const created = await sandbox.call('POST', '/v1/consents', { headers: { 'psu-id': 'erika.mustermann' }, body: consentBody() });
    expect(created.status).toBe(201);
    expect(created.headers.get('aspsp-sca-approach')).toBe('REDIRECT');
    const { consentId, _links: links } = created.body;
    expect(links.scaOAuth.href).toBe(sandbox.bg.authorizationServer.metadataUrl);
    expect(links.scaRedirect).toBeUndefined();

    const tokens = await bgOAuth(sandbox, `AIS:${consentId}`, { psuId: 'erika.mustermann' }, links.scaOAuth.href);
    expect(tokens.scope).toBe(`AIS:${consentId}`);
    expect(tokens.refresh_token).toBeTruthy();
    expect((await sandbox.call('GET', links.scaStatus.href)).body.scaStatus).toBe('finalised');

    const withoutToken = await sandbox.call('GET', '/v1/accounts', { headers: { 'consent-id': consentId } });
    expect(withoutToken.status).toBe(401);
    expect(withoutToken.body.tppMessages[0].code).toBe('TOKEN_INVALID');
    expect(await readAll(sandbox, consentId, tokens.access_token)).toEqual([200, 200, 200]);

    // A token bound to another consent does not open this one.
    const other = await sandbox.call('POST', '/v1/consents', { headers: { 'psu-id': 'erika.mustermann' }, body: consentBody({ recurringIndicator: false, frequencyPerDay: 1 }) });
    const otherTokens = await bgOAuth(sandbox, `AIS:${other.body.consentId}`, { psuId: 'erika.mustermann' });
    const crossed = await sandbox.call('GET', '/v1/accounts', { headers: { 'consent-id': consentId }, token: otherTokens.access_token });
    expect(crossed.status).toBe(401);
    expect(crossed.body.tppMessages[0].code).toBe('TOKEN_INVALID');

    // The token is bound to the gateway's certificate: another TPP's QWAC cannot use it.
    const stolen = await sandbox.call('GET', '/v1/accounts', { headers: { 'consent-id': consentId }, token: tokens.access_token, agent: sandbox.bgAgents.otherTpp });
    expect(stolen.status).toBe(403);
    expect(stolen.body.tppMessages[0].code).toBe('CONSENT_UNKNOWN');
  });

  it('OAuth integrated: an authorize for an unknown or foreign consent is refused with an OAuth error', async () => {
    await expect(bgOAuth(sandbox, 'AIS:no-such-consent', { psuId: 'erika.mustermann' })).rejects.toMatchObject({ error: 'invalid_scope' });
  });

  it('OAuth pre-step: a corporate PSU without a token gets 401 TOKEN_INVALID with scaOAuth; with the AIS token the consent is valid at once', async () => {
    const refused = await sandbox.call('POST', '/v1/consents', { headers: { 'psu-id': 'muster.gmbh' }, body: consentBody() });
    expect(refused.status).toBe(401);
    expect(refused.body.tppMessages[0].code).toBe('TOKEN_INVALID');
    expect(refused.body._links.scaOAuth.href).toBe(sandbox.bg.authorizationServer.metadataUrl);

    const tokens = await bgOAuth(sandbox, 'AIS', { psuId: 'muster.gmbh' }, refused.body._links.scaOAuth.href);
    expect(tokens.scope).toBe('AIS');
    const created = await sandbox.call('POST', '/v1/consents', { body: consentBody(), token: tokens.access_token });
    expect(created.status).toBe(201);
    expect(created.body.consentStatus).toBe('valid');
    expect(created.body._links.scaRedirect ?? created.body._links.scaOAuth).toBeUndefined();
    const consentId = created.body.consentId as string;
    expect(await readAll(sandbox, consentId, tokens.access_token)).toEqual([200, 200, 200]);
    expect((await sandbox.call('GET', '/v1/accounts', { headers: { 'consent-id': consentId } })).status).toBe(401);

    // PSU-ID must be the token's PSU.
    const mismatch = await sandbox.call('POST', '/v1/consents', { headers: { 'psu-id': 'max.mustermann' }, body: consentBody(), token: tokens.access_token });
    expect(mismatch.status).toBe(401);
    expect(mismatch.body.tppMessages[0].code).toBe('TOKEN_INVALID');
  });

  it('decoupled: psuMessage, polling faster than the bank allows is refused (429), the app approves, then reads', async () => {
    const created = await sandbox.call('POST', '/v1/consents', { headers: { 'psu-id': 'max.mustermann', 'tpp-decoupled-preferred': 'true' }, body: consentBody() });
    expect(created.status).toBe(201);
    expect(created.headers.get('aspsp-sca-approach')).toBe('DECOUPLED');
    const { consentId, scaStatus, psuMessage, _links: links } = created.body;
    expect(scaStatus).toBe('started');
    expect(psuMessage).toMatch(/app/);

    const first = await sandbox.call('GET', links.scaStatus.href);
    expect(first.status).toBe(200);
    expect(first.body.scaStatus).toBe('started');
    // The next poll comes well inside the bank's 60 s minimum interval (nothing advanced the bank's clock).
    const tooFast = await sandbox.call('GET', links.scaStatus.href);
    expect(tooFast.status).toBe(429);
    expect(tooFast.body.tppMessages[0].code).toBe('ACCESS_EXCEEDED');
    expect(Number(tooFast.headers.get('retry-after'))).toBeGreaterThan(0);

    const authorisationId = links.scaStatus.href.split('/').pop()!;
    expect((await sandbox.control('POST', `/authorisations/${authorisationId}/approve`)).body.scaStatus).toBe('finalised');
    await sandbox.control('POST', '/clock', { advanceSeconds: 60 });
    expect((await sandbox.call('GET', links.scaStatus.href)).body.scaStatus).toBe('finalised');
    expect((await sandbox.call('GET', `/v1/consents/${consentId}/status`)).body.consentStatus).toBe('valid');
    expect(await readAll(sandbox, consentId)).toEqual([200, 200, 200]);
  });

  it('decoupled without PSU-ID: startAuthorisationWithPsuIdentification; the app approves by itself after its delay', async () => {
    const created = await sandbox.call('POST', '/v1/consents', { headers: { 'tpp-decoupled-preferred': 'true' }, body: consentBody() });
    const { consentId, _links: links } = created.body;
    expect(Object.keys(links).sort()).toEqual(['self', 'startAuthorisationWithPsuIdentification', 'status']);
    const noPsu = await sandbox.call('POST', links.startAuthorisationWithPsuIdentification.href);
    expect(noPsu.status).toBe(400);
    expect(noPsu.body.tppMessages[0].code).toBe('FORMAT_ERROR');
    const started = await sandbox.call('POST', links.startAuthorisationWithPsuIdentification.href, { headers: { 'psu-id': 'erika.mustermann' } });
    expect(started.status).toBe(201);
    expect(started.body).toMatchObject({ scaStatus: 'started', authorisationId: expect.any(String) });
    expect(started.headers.get('location')).toContain(`/psd2/v1/consents/${consentId}/authorisations/${started.body.authorisationId}`);

    await sandbox.control('POST', '/clock', { advanceSeconds: 3_600 });
    expect((await sandbox.call('GET', started.body._links.scaStatus.href)).body.scaStatus).toBe('finalised');
    expect(await readAll(sandbox, consentId)).toEqual([200, 200, 200]);
  });

  it('embedded: password, SCA method selection, OTP by PUT, then reads', async () => {
    const created = await sandbox.call('POST', '/v1/consents', { headers: { 'psu-id': 'max.mustermann', 'tpp-redirect-preferred': 'false' }, body: consentBody() });
    expect(created.headers.get('aspsp-sca-approach')).toBe('EMBEDDED');
    const { consentId, _links: links } = created.body;
    expect(created.body.scaStatus).toBe('psuIdentified');
    const authorisation = links.updatePsuAuthentication.href as string;

    const badPassword = await sandbox.call('PUT', authorisation, { body: { psuData: { password: 'nope' } } });
    expect(badPassword.status).toBe(401);
    expect(badPassword.body.tppMessages[0].code).toBe('PSU_CREDENTIALS_INVALID');
    const authenticated = await sandbox.call('PUT', authorisation, { body: { psuData: { password: '12345' } } });
    expect(authenticated.status).toBe(200);
    expect(authenticated.body.scaStatus).toBe('psuAuthenticated');
    expect(authenticated.body.scaMethods.map((m: { authenticationMethodId: string }) => m.authenticationMethodId)).toEqual(['sms-otp', 'chip-tan']);
    expect(authenticated.body._links.selectAuthenticationMethod.href).toBe(authorisation);

    const unknownMethod = await sandbox.call('PUT', authorisation, { body: { authenticationMethodId: 'carrier-pigeon' } });
    expect(unknownMethod.body.tppMessages[0].code).toBe('SCA_METHOD_UNKNOWN');
    const selected = await sandbox.call('PUT', authorisation, { body: { authenticationMethodId: 'sms-otp' } });
    expect(selected.body).toMatchObject({ scaStatus: 'scaMethodSelected', chosenScaMethod: { authenticationType: 'SMS_OTP' }, challengeData: { otpMaxLength: 6 } });

    const early = await sandbox.call('GET', '/v1/accounts', { headers: { 'consent-id': consentId } });
    expect(early.body.tppMessages[0].code).toBe('CONSENT_INVALID');
    const done = await sandbox.call('PUT', selected.body._links.authoriseTransaction.href, { body: { scaAuthenticationData: '123456' } });
    expect(done.body.scaStatus).toBe('finalised');
    expect(await readAll(sandbox, consentId)).toEqual([200, 200, 200]);
  });

  it('embedded with one SCA method selects it implicitly; three wrong TANs fail the SCA and reject the consent', async () => {
    const created = await sandbox.call('POST', '/v1/consents', { headers: { 'tpp-redirect-preferred': 'false' }, body: consentBody() });
    const start = created.body._links.startAuthorisationWithPsuAuthentication.href as string;
    const started = await sandbox.call('POST', start, { headers: { 'psu-id': 'erika.mustermann' }, body: { psuData: { password: '12345' } } });
    expect(started.status).toBe(201);
    expect(started.body).toMatchObject({ scaStatus: 'scaMethodSelected', chosenScaMethod: { authenticationMethodId: 'sms-otp' } });
    const authorise = started.body._links.authoriseTransaction.href as string;
    for (let attempt = 0; attempt < 3; attempt++) {
      const wrong = await sandbox.call('PUT', authorise, { body: { scaAuthenticationData: '000000' } });
      expect(wrong.status).toBe(401);
    }
    expect((await sandbox.call('GET', authorise)).body.scaStatus).toBe('failed');
    expect((await sandbox.call('GET', `/v1/consents/${created.body.consentId}/status`)).body.consentStatus).toBe('rejected');
  });

  it('explicit authorisation: startAuthorisation, then the redirect it hands out', async () => {
    const created = await sandbox.call('POST', '/v1/consents', {
      headers: { 'tpp-redirect-uri': TPP_REDIRECT, 'tpp-explicit-authorisation-preferred': 'true' },
      body: consentBody(),
    });
    expect(Object.keys(created.body._links).sort()).toEqual(['self', 'startAuthorisation', 'status']);
    const started = await sandbox.call('POST', created.body._links.startAuthorisation.href);
    expect(started.status).toBe(201);
    expect(started.body.scaStatus).toBe('received');
    const { returnUrl } = await sandbox.psu(started.body._links.scaRedirect.href, { psuId: 'max.mustermann' });
    const confirmed = await sandbox.call('PUT', started.body._links.confirmation.href, { body: { confirmationCode: returnUrl.searchParams.get('code') } });
    expect(confirmed.body.scaStatus).toBe('finalised');
    expect(await readAll(sandbox, created.body.consentId)).toEqual([200, 200, 200]);
    const list = await sandbox.call('GET', `/v1/consents/${created.body.consentId}/authorisations`);
    expect(list.body.authorisationIds).toEqual([started.body.authorisationId]);
  });
});
