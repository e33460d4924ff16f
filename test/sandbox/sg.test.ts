import * as oauth from 'oauth4webapi';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authoriseAtBank } from '../../sandbox/headless-psu.js';
import { certificateThumbprint } from '../../sandbox/pki.js';
import { readFile } from 'node:fs/promises';
import {
  REDIRECT,
  sgAuthorizationCode,
  sgAuthorizationServer,
  sgClient,
  sgSignedHeaders,
  startTestSandbox,
  type TestSandbox,
} from './helpers.js';

interface StetError {
  status: number;
  error: string;
  message: string;
}

describe('SG-like sandbox bank', () => {
  let sandbox: TestSandbox;

  beforeAll(async () => {
    sandbox = await startTestSandbox();
  });
  afterAll(async () => {
    await sandbox?.close();
  });

  async function pispToken(): Promise<oauth.TokenEndpointResponse> {
    const as = await sgAuthorizationServer(sandbox);
    const client = sgClient(sandbox.file);
    const response = await oauth.clientCredentialsGrantRequest(as, client, oauth.TlsClientAuth(), { scope: 'pisp' }, {
      [oauth.customFetch]: sandbox.customFetch(sandbox.agents.sg),
    });
    return oauth.processClientCredentialsResponse(as, client, response);
  }

  async function createPaymentRequest(accessToken: string, amount = '12.00'): Promise<{ location: string; body: { appliedAuthenticationApproach: string; _links: { consentApproval: { href: string } } } }> {
    const url = `${sandbox.file.banks.sg.apis.pisp}/payment-requests`;
    const body = JSON.stringify({
      paymentInformationId: 'pi-1',
      creationDateTime: new Date().toISOString(),
      numberOfTransactions: 1,
      initiatingParty: { name: 'Bankgate' },
      paymentTypeInformation: { serviceLevel: 'SEPA' },
      debtor: { name: 'Camille Dupont' },
      creditTransferTransaction: [
        { paymentId: { instructionId: 'i1', endToEndId: 'e1' }, instructedAmount: { currency: 'EUR', amount }, remittanceInformation: ['x'] },
      ],
      supplementaryData: { acceptedAuthenticationApproach: ['REDIRECT'], successfulReportUrl: 'https://tpp.example/ok', unsuccessfulReportUrl: 'https://tpp.example/nok' },
    });
    const created = await sandbox.fetch(sandbox.agents.sg, url, {
      method: 'POST',
      headers: await sgSignedHeaders(sandbox.file, 'POST', url, accessToken, body),
      body,
    });
    expect(created.status).toBe(201);
    return { location: created.headers.get('location')!, body: (await created.json()) as never };
  }

  async function paymentStatus(location: string, accessToken: string): Promise<string> {
    const read = await sandbox.fetch(sandbox.agents.sg, location, { headers: await sgSignedHeaders(sandbox.file, 'GET', location, accessToken) });
    expect(read.status).toBe(200);
    return ((await read.json()) as { paymentRequest: { paymentInformationStatus: string } }).paymentRequest.paymentInformationStatus;
  }

  it('publishes discovery with the mTLS endpoint aliases and tls_client_auth', async () => {
    const as = await sgAuthorizationServer(sandbox);
    const { authorizationServer } = sandbox.file.banks.sg;
    expect(as.mtls_endpoint_aliases?.token_endpoint).toBe(authorizationServer.mtlsTokenEndpoint);
    expect(new URL(authorizationServer.mtlsTokenEndpoint!).port).not.toBe(new URL(as.issuer).port);
    expect(as.token_endpoint_auth_methods_supported).toEqual(['tls_client_auth']);
    expect(as.tls_client_certificate_bound_access_tokens).toBe(true);
    expect(as.acr_values_supported).toContain('L1');
    expect(as.scopes_supported).toEqual(expect.arrayContaining(['openid', 'aisp', 'pisp', 'cbpii']));
  });

  it('runs the OIDC code flow: acr L1 id_token, certificate-bound 599 s token, rotated refresh token', async () => {
    const { tokens, callbackUrl, steps } = await sgAuthorizationCode(sandbox);
    expect(steps.map((s) => s.status)).toEqual([303, 303, 303]);
    expect(callbackUrl.searchParams.get('iss')).toBe(sandbox.file.banks.sg.authorizationServer.issuer);
    expect(tokens.expires_in).toBe(599);
    expect(tokens.refresh_token).toBeTruthy();
    const claims = oauth.getValidatedIdTokenClaims(tokens)!;
    expect(claims.acr).toBe('L1');
    expect(claims.sub).toBe('sg-psu-1');
  });

  it('refuses an authorization request without openid', async () => {
    const url = new URL(sandbox.file.banks.sg.authorizationServer.authorizationEndpoint);
    url.search = new URLSearchParams({
      client_id: sandbox.file.banks.sg.client.clientId,
      response_type: 'code',
      redirect_uri: REDIRECT.sg,
      scope: 'aisp',
      code_challenge: await oauth.calculatePKCECodeChallenge(oauth.generateRandomCodeVerifier()),
      code_challenge_method: 'S256',
    }).toString();
    const response = await sandbox.fetch(sandbox.agents.none, url, { redirect: 'manual' });
    expect(response.status).toBe(303);
    const location = new URL(response.headers.get('location')!);
    expect(location.searchParams.get('error')).toBe('invalid_scope');
  });

  it('refuses tls_client_auth with another (trusted) certificate or on the front host', async () => {
    const as = await sgAuthorizationServer(sandbox);
    const client = sgClient(sandbox.file);
    const wrongCert = await oauth.clientCredentialsGrantRequest(as, client, oauth.TlsClientAuth(), { scope: 'pisp' }, {
      [oauth.customFetch]: sandbox.customFetch(sandbox.agents.seb),
    });
    await expect(oauth.processClientCredentialsResponse(as, client, wrongCert)).rejects.toMatchObject({ error: 'invalid_client' });
    const untrusted = await oauth.clientCredentialsGrantRequest(as, client, oauth.TlsClientAuth(), { scope: 'pisp' }, {
      [oauth.customFetch]: sandbox.customFetch(sandbox.agents.untrusted),
    });
    await expect(oauth.processClientCredentialsResponse(as, client, untrusted)).rejects.toMatchObject({ error: 'invalid_client' });
  });

  it('serves signed AISP calls with the bound token, refuses another certificate and bad signatures', async () => {
    const { tokens } = await sgAuthorizationCode(sandbox);
    const url = `${sandbox.file.banks.sg.apis.aisp}/accounts`;
    const ok = await sandbox.fetch(sandbox.agents.sg, url, { headers: await sgSignedHeaders(sandbox.file, 'GET', url, tokens.access_token) });
    expect(ok.status).toBe(200);
    expect(ok.headers.get('content-type')).toContain('application/hal+json');
    const body = (await ok.json()) as { accounts: Array<{ resourceId: string; accountId: { iban: string } }> };
    expect(body.accounts.length).toBeGreaterThanOrEqual(2);
    expect(body.accounts[0]!.accountId.iban).toMatch(/^FR\d{25}$/);

    // The SEB QWAC is signed by the same (trusted) CA: TLS succeeds, the binding does not.
    const otherCert = await sandbox.fetch(sandbox.agents.seb, url, { headers: await sgSignedHeaders(sandbox.file, 'GET', url, tokens.access_token) });
    expect(otherCert.status).toBe(401);
    expect(otherCert.headers.get('www-authenticate')).toBe('Bearer error="invalid_token"');
    const bindingError = (await otherCert.json()) as StetError;
    expect(bindingError).toMatchObject({ status: 401, error: 'invalid_token' });
    expect(bindingError.message).toContain('certificate binding');

    const tampered = await sgSignedHeaders(sandbox.file, 'GET', url, tokens.access_token);
    tampered.signature = tampered.signature!.replace(/signature="[^"]{8}/, 'signature="AAAAAAAA');
    const badSignature = await sandbox.fetch(sandbox.agents.sg, url, { headers: tampered });
    expect(badSignature.status).toBe(401);
    expect(((await badSignature.json()) as StetError).message).toMatch(/^signature: the signature does not verify/);

    const otherPath = await sgSignedHeaders(sandbox.file, 'GET', `${url}?page=2`, tokens.access_token);
    const wrongTarget = await sandbox.fetch(sandbox.agents.sg, url, { headers: otherPath });
    expect(wrongTarget.status).toBe(401);

    const narrow = await sgSignedHeaders(sandbox.file, 'GET', url, tokens.access_token);
    narrow.signature = narrow.signature!.replace('headers="(request-target) digest x-request-id"', 'headers="(request-target) digest"');
    const notCovering = await sandbox.fetch(sandbox.agents.sg, url, { headers: narrow });
    expect(notCovering.status).toBe(401);
    expect(((await notCovering.json()) as StetError).message).toContain('x-request-id');

    const { signature: _dropped, ...unsigned } = await sgSignedHeaders(sandbox.file, 'GET', url, tokens.access_token);
    const missing = await sandbox.fetch(sandbox.agents.sg, url, { headers: unsigned });
    expect(missing.status).toBe(400);
    expect(((await missing.json()) as StetError).error).toBe('invalid_request');
  });

  it('checks the Digest against the body (CBPII funds confirmation)', async () => {
    const { tokens } = await sgAuthorizationCode(sandbox);
    const base = sandbox.file.banks.sg.apis;
    const accounts = (await (
      await sandbox.fetch(sandbox.agents.sg, `${base.aisp}/accounts`, {
        headers: await sgSignedHeaders(sandbox.file, 'GET', `${base.aisp}/accounts`, tokens.access_token),
      })
    ).json()) as { accounts: Array<{ accountId: { iban: string } }> };
    const url = `${base.cbpii}/funds-confirmations`;
    const body = JSON.stringify({
      paymentCoverageRequestId: 'cov-1',
      instructedAmount: { currency: 'EUR', amount: '10.00' },
      accountId: { iban: accounts.accounts[0]!.accountId.iban },
    });
    const headers = await sgSignedHeaders(sandbox.file, 'POST', url, tokens.access_token, body);
    const ok = await sandbox.fetch(sandbox.agents.sg, url, { method: 'POST', headers, body });
    expect(ok.status).toBe(200);
    expect(((await ok.json()) as { result: boolean }).result).toBe(true);

    const other = body.replace('10.00', '99.00');
    const mismatch = await sandbox.fetch(sandbox.agents.sg, url, { method: 'POST', headers, body: other });
    expect(mismatch.status).toBe(401);
    expect(((await mismatch.json()) as StetError).message).toContain('Digest');
  });

  it('rotates refresh tokens: the old one gets invalid_grant', async () => {
    const { tokens } = await sgAuthorizationCode(sandbox);
    const as = await sgAuthorizationServer(sandbox);
    const client = sgClient(sandbox.file);
    const options = { [oauth.customFetch]: sandbox.customFetch(sandbox.agents.sg) };
    const first = await oauth.processRefreshTokenResponse(
      as,
      client,
      await oauth.refreshTokenGrantRequest(as, client, oauth.TlsClientAuth(), tokens.refresh_token!, options),
    );
    expect(first.refresh_token).toBeTruthy();
    expect(first.refresh_token).not.toBe(tokens.refresh_token);
    const reused = await oauth.refreshTokenGrantRequest(as, client, oauth.TlsClientAuth(), tokens.refresh_token!, options);
    await expect(oauth.processRefreshTokenResponse(as, client, reused)).rejects.toMatchObject({ error: 'invalid_grant' });
  });

  it('issues certificate-bound client-credentials tokens for PISP; a payment request waits for the PSU at consentApproval', async () => {
    const as = await sgAuthorizationServer(sandbox);
    const client = sgClient(sandbox.file);
    const response = await oauth.clientCredentialsGrantRequest(as, client, oauth.TlsClientAuth(), { scope: 'pisp' }, {
      [oauth.customFetch]: sandbox.customFetch(sandbox.agents.sg),
    });
    const tokens = await oauth.processClientCredentialsResponse(as, client, response);
    expect(tokens.expires_in).toBe(599);
    expect(tokens.scope).toBe('pisp');

    const { location, body } = await createPaymentRequest(tokens.access_token);
    expect(body.appliedAuthenticationApproach).toBe('REDIRECT');
    // The approval page is the bank's web host (the PSU's browser has no client certificate), not the API host.
    const approval = new URL(body._links.consentApproval.href);
    expect(approval.origin).toBe(sandbox.file.banks.sg.authorizationServer.issuer);
    expect(await paymentStatus(location, tokens.access_token)).toBe('RCVD');

    const { returnUrl } = await authoriseAtBank(approval, { ca: sandbox.ca, psuId: 'sg-psu-1' });
    expect(returnUrl.href).toBe('https://tpp.example/ok');
    expect(await paymentStatus(location, tokens.access_token)).toBe('ACSP');
    // Used once: the link is spent.
    expect((await sandbox.fetch(sandbox.agents.none, approval)).status).toBe(409);

    // A client-credentials token is not a PSU's: AISP refuses it.
    const accounts = `${sandbox.file.banks.sg.apis.aisp}/accounts`;
    const refused = await sandbox.fetch(sandbox.agents.sg, accounts, { headers: await sgSignedHeaders(sandbox.file, 'GET', accounts, tokens.access_token) });
    expect(refused.status).toBe(403);
  });

  it('sends the PSU who refuses, or whose account does not cover the amount, to unsuccessfulReportUrl: RJCT', async () => {
    const tokens = await pispToken();
    const refusal = await createPaymentRequest(tokens.access_token);
    const { returnUrl } = await authoriseAtBank(refusal.body._links.consentApproval.href, { ca: sandbox.ca, psuId: 'sg-psu-1', decision: 'deny' });
    expect(returnUrl.href).toBe('https://tpp.example/nok');
    expect(await paymentStatus(refusal.location, tokens.access_token)).toBe('RJCT');

    const tooMuch = await createPaymentRequest(tokens.access_token, '99999.00');
    const rejected = await authoriseAtBank(tooMuch.body._links.consentApproval.href, { ca: sandbox.ca, psuId: 'sg-psu-1' });
    expect(rejected.returnUrl.href).toBe('https://tpp.example/nok');
    expect(await paymentStatus(tooMuch.location, tokens.access_token)).toBe('RJCT');
  });

  it('revokes an access token on the mTLS alias; the resource server then refuses it', async () => {
    const { tokens } = await sgAuthorizationCode(sandbox);
    const as = await sgAuthorizationServer(sandbox);
    const client = sgClient(sandbox.file);
    const revoked = await oauth.revocationRequest(as, client, oauth.TlsClientAuth(), tokens.access_token, {
      [oauth.customFetch]: sandbox.customFetch(sandbox.agents.sg),
    });
    await oauth.processRevocationResponse(revoked);
    const url = `${sandbox.file.banks.sg.apis.aisp}/accounts`;
    const response = await sandbox.fetch(sandbox.agents.sg, url, { headers: await sgSignedHeaders(sandbox.file, 'GET', url, tokens.access_token) });
    expect(response.status).toBe(401);
  });

  it('records what reached the bank, with the client certificate thumbprint', async () => {
    const { tokens } = await sgAuthorizationCode(sandbox);
    const url = `${sandbox.file.banks.sg.apis.aisp}/accounts`;
    const headers = await sgSignedHeaders(sandbox.file, 'GET', url, tokens.access_token);
    await sandbox.fetch(sandbox.agents.sg, url, { headers: { ...headers, 'psu-ip-address': '198.51.100.7' } });
    const recorded = (await (await fetch(`${sandbox.file.controlUrl}/requests?bank=sg`)).json()) as Array<{
      path: string;
      headers: Record<string, string>;
      clientCertThumbprint: string;
      status: number;
    }>;
    const last = recorded.at(-1)!;
    expect(last.path).toBe(new URL(url).pathname);
    expect(last.status).toBe(200);
    expect(last.headers['x-request-id']).toBe(headers['x-request-id']);
    expect(last.headers['psu-ip-address']).toBe('198.51.100.7');
    expect(last.clientCertThumbprint).toBe(certificateThumbprint(await readFile(sandbox.file.banks.sg.mtls.certFile, 'utf8')));
  });
});
