/**
 * Plumbing for the UK-OB-like bank's tests: the TPP side written with oauth4webapi (PAR, request objects,
 * `private_key_jwt`, hybrid responses) and jose (an `x-jws-signature` signer written here, independent of the
 * bank's verifier), mTLS agents, and a check of the bank's answers against the 4.0 spec's own response schemas.
 */
import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { Ajv, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import { base64url, createLocalJWKSet, flattenedVerify, importPKCS8, type CryptoKey, type JSONWebKeySet } from 'jose';
import * as oauth from 'oauth4webapi';
import { Agent } from 'undici';
import { expect } from 'vitest';
import { documents, manifests } from '../../generated/index.js';
import { authoriseAsUkobPsu, type UkobPsuResult } from '../../sandbox/ukob/headless-psu.js';
import type { UkobFapiProfile, UkobSandboxBank } from '../../sandbox/ukob/index.js';
import { startTestSandbox, type TestSandbox } from './helpers.js';

const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv;

export const UKOB_REDIRECT = 'http://127.0.0.1:4568/callback/ukob';
export const OB_IAT = 'http://openbanking.org.uk/iat';
export const OB_ISS = 'http://openbanking.org.uk/iss';
export const OB_TAN = 'http://openbanking.org.uk/tan';

export interface UkobTestSandbox {
  readonly sandbox: TestSandbox;
  readonly bank: UkobSandboxBank;
  readonly as: oauth.AuthorizationServer;
  /** The `private_key_jwt` client and its authentication. */
  readonly client: oauth.Client;
  readonly auth: oauth.ClientAuth;
  /** The same TPP registered for `tls_client_auth`. */
  readonly mtlsClient: oauth.Client;
  readonly signingKey: CryptoKey;
  /** The TPP's transport certificate, trusting the sandbox CA. */
  readonly agent: Agent;
  /** customFetch through the TPP's transport certificate. */
  readonly tppFetch: (url: string, options: oauth.CustomFetchOptions<string, unknown>) => Promise<Response>;
  close(): Promise<void>;
}

export async function startUkobTestSandbox(fapiProfile: UkobFapiProfile = '2.0'): Promise<UkobTestSandbox> {
  const sandbox = await startTestSandbox({ ukobFapiProfile: fapiProfile });
  const bank = sandbox.file.banks.ukob;
  const [cert, key, signingPem] = await Promise.all([readFile(bank.mtls.certFile, 'utf8'), readFile(bank.mtls.keyFile, 'utf8'), readFile(bank.signing.keyFile, 'utf8')]);
  const agent = new Agent({ connect: { ca: sandbox.ca, cert, key } });
  const tppFetch = sandbox.customFetch(agent);
  const issuer = new URL(bank.authorizationServer.issuer);
  const as = await oauth.processDiscoveryResponse(issuer, await oauth.discoveryRequest(issuer, { [oauth.customFetch]: sandbox.customFetch(sandbox.agents.none) }));
  const signingKey = (await importPKCS8(signingPem, 'PS256')) as CryptoKey;
  const client: oauth.Client = { client_id: bank.client.clientId, use_mtls_endpoint_aliases: true, id_token_signed_response_alg: 'PS256' };
  const mtlsClient: oauth.Client = { client_id: bank.mtlsClient.clientId, use_mtls_endpoint_aliases: true, id_token_signed_response_alg: 'PS256' };
  return {
    sandbox,
    bank,
    as,
    client,
    auth: oauth.PrivateKeyJwt({ key: signingKey, kid: bank.signing.keyId }),
    mtlsClient,
    signingKey,
    agent,
    tppFetch,
    async close() {
      await agent.close();
      await sandbox.close();
    },
  };
}

/** A client-credentials token of the TPP (scope `accounts` or `payments`). */
export async function clientCredentials(t: UkobTestSandbox, scope: string, client: 'pkjwt' | 'mtls' = 'pkjwt'): Promise<string> {
  const [c, auth] = client === 'pkjwt' ? [t.client, t.auth] : [t.mtlsClient, oauth.TlsClientAuth()];
  const response = await oauth.clientCredentialsGrantRequest(t.as, c, auth, { scope }, { [oauth.customFetch]: t.tppFetch });
  return (await oauth.processClientCredentialsResponse(t.as, c, response)).access_token;
}

/** `claims` asking for the intent as an essential claim, as Open Banking clients send it. */
export function intentClaims(intentId: string): string {
  const member = { openbanking_intent_id: { value: intentId, essential: true } };
  return JSON.stringify({ id_token: { ...member, acr: { essential: true, values: ['urn:openbanking:psd2:sca'] } }, userinfo: member });
}

/** A resource call through the TPP's certificate (or another agent). */
export function call(t: UkobTestSandbox, url: string, init: { method?: string; token: string; body?: string; headers?: Record<string, string>; agent?: Agent }): Promise<Response> {
  return t.sandbox.fetch(init.agent ?? t.agent, url, {
    method: init.method ?? 'GET',
    headers: {
      authorization: `Bearer ${init.token}`,
      accept: 'application/json',
      ...(init.body !== undefined ? { 'content-type': 'application/json' } : {}),
      ...init.headers,
    },
    body: init.body,
  });
}

export interface JwsOptions {
  readonly iat?: number;
  readonly iss?: string;
  readonly tan?: string;
  readonly kid?: string;
  readonly crit?: string[];
  /** Sign as pre-3.1.4 clients do: `b64: false`, the body unencoded in the signing input. */
  readonly unencoded?: boolean;
  readonly key?: CryptoKey;
  readonly alg?: string;
}

/** The TPP's `x-jws-signature` over `body`, detached; written here, independent of the bank's code. */
export async function signJws(t: UkobTestSandbox, body: string, options: JwsOptions = {}): Promise<string> {
  const header: Record<string, unknown> = {
    alg: options.alg ?? 'PS256',
    kid: options.kid ?? t.bank.signing.keyId,
    typ: 'JOSE',
    cty: 'application/json',
    [OB_IAT]: options.iat ?? Math.floor(Date.now() / 1000),
    [OB_ISS]: options.iss ?? t.bank.signing.jwsIssuer,
    [OB_TAN]: options.tan ?? t.bank.signing.trustAnchor,
    crit: options.crit ?? [OB_IAT, OB_ISS, OB_TAN],
  };
  if (options.unencoded) {
    header.b64 = false;
    header.crit = [...(header.crit as string[]), 'b64'];
  }
  const protectedB64 = base64url.encode(JSON.stringify(header));
  const payload = options.unencoded ? body : base64url.encode(body);
  const signingInput = new TextEncoder().encode(`${protectedB64}.${payload}`);
  const key = (options.key ?? t.signingKey) as unknown as globalThis.CryptoKey;
  // PS256: RSASSA-PSS, SHA-256, 32-byte salt; an RS256 key (for refusal tests) signs PKCS#1 v1.5.
  const algorithm = key.algorithm.name === 'RSA-PSS' ? { name: 'RSA-PSS', saltLength: 32 } : { name: key.algorithm.name };
  const signature = new Uint8Array(await crypto.subtle.sign(algorithm, key, signingInput));
  return `${protectedB64}..${base64url.encode(signature)}`;
}

/** Verifies the bank's `x-jws-signature` on an answer with the JWKS it publishes; returns the protected header. */
export async function verifyBankSignature(t: UkobTestSandbox, response: Response, body: string): Promise<Record<string, unknown>> {
  const jws = response.headers.get('x-jws-signature');
  if (!jws) throw new Error('the answer has no x-jws-signature');
  const jwks = (await (await t.sandbox.fetch(t.sandbox.agents.none, t.bank.bankSigning.jwksUrl)).json()) as JSONWebKeySet;
  const [protectedB64, , signature] = jws.split('.');
  const verified = await flattenedVerify({ protected: protectedB64!, payload: base64url.encode(body), signature: signature! }, createLocalJWKSet(jwks), {
    algorithms: ['PS256'],
    crit: { [OB_IAT]: true, [OB_ISS]: true, [OB_TAN]: true },
  });
  return verified.protectedHeader as Record<string, unknown>;
}

export function headers(extra: Record<string, string> = {}): Record<string, string> {
  return { 'x-fapi-interaction-id': randomUUID(), ...extra };
}

/** A signed, idempotent payment POST (consent or payment). */
export async function postSigned(t: UkobTestSandbox, url: string, token: string, body: unknown, options: { key?: string; jws?: string; jwsOptions?: JwsOptions } = {}): Promise<Response> {
  const text = JSON.stringify(body);
  return call(t, url, {
    method: 'POST',
    token,
    body: text,
    headers: headers({ 'x-idempotency-key': options.key ?? randomUUID(), 'x-jws-signature': options.jws ?? (await signJws(t, text, options.jwsOptions)) }),
  });
}

export interface Authorisation {
  readonly tokens: oauth.TokenEndpointResponse;
  readonly callbackUrl: URL;
  readonly consent: UkobPsuResult;
}

export interface AuthoriseOptions {
  readonly psuId?: string;
  /** Account access: the accounts the PSU shares (default all of theirs). */
  readonly accounts?: string[];
  /** A payment naming no debtor account: the one the PSU pays from. */
  readonly debtorAccount?: string;
  /** FAPI 2.0: the PAR carries a signed request object instead of plain parameters. */
  readonly requestObject?: boolean;
  readonly claims?: string;
}

/** The authorize URL a FAPI 2.0 client sends the PSU to: PAR first (the pushed request's `request_uri`). */
export async function pushAuthorizationRequest(t: UkobTestSandbox, scope: string, claims: string, options: { requestObject?: boolean; verifier?: string; state?: string } = {}) {
  const verifier = options.verifier ?? oauth.generateRandomCodeVerifier();
  const state = options.state ?? oauth.generateRandomState();
  const params: Record<string, string> = {
    response_type: 'code',
    redirect_uri: UKOB_REDIRECT,
    scope,
    state,
    claims,
    code_challenge: await oauth.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
  };
  const pushed = options.requestObject ? { request: await oauth.issueRequestObject(t.as, t.client, params, { key: t.signingKey, kid: t.bank.signing.keyId }) } : params;
  const response = await oauth.pushedAuthorizationRequest(t.as, t.client, t.auth, pushed, { [oauth.customFetch]: t.tppFetch });
  return { response, verifier, state };
}

/** FAPI 2.0: PAR → authorize → headless PSU → code → tokens (private_key_jwt, certificate-bound). */
export async function authoriseFapi2(t: UkobTestSandbox, intentId: string, scope: string, options: AuthoriseOptions = {}): Promise<Authorisation> {
  const { response, verifier, state } = await pushAuthorizationRequest(t, scope, options.claims ?? intentClaims(intentId), { requestObject: options.requestObject });
  const par = await oauth.processPushedAuthorizationResponse(t.as, t.client, response);
  const url = new URL(t.as.authorization_endpoint!);
  url.search = new URLSearchParams({ client_id: t.client.client_id, request_uri: par.request_uri }).toString();
  const consent = await authoriseAsUkobPsu(url, { ca: t.sandbox.ca, psuId: options.psuId ?? 'ukob-psu-1', accounts: options.accounts, debtorAccount: options.debtorAccount });
  const params = oauth.validateAuthResponse(t.as, t.client, consent.callbackUrl, state);
  const tokenResponse = await oauth.authorizationCodeGrantRequest(t.as, t.client, t.auth, params, UKOB_REDIRECT, verifier, { [oauth.customFetch]: t.tppFetch });
  return { tokens: await oauth.processAuthorizationCodeResponse(t.as, t.client, tokenResponse, { requireIdToken: true }), callbackUrl: consent.callbackUrl, consent };
}

/** FAPI 1 Advanced: a PS256 request object (by value), `code id_token`, the id_token checked as a detached signature. */
export async function authoriseFapi1(t: UkobTestSandbox, intentId: string, scope: string, options: AuthoriseOptions & { viaPar?: boolean } = {}): Promise<Authorisation> {
  const state = oauth.generateRandomState();
  const nonce = oauth.generateRandomNonce();
  const verifier = oauth.generateRandomCodeVerifier();
  const params: Record<string, string> = {
    response_type: 'code id_token',
    redirect_uri: UKOB_REDIRECT,
    scope,
    state,
    nonce,
    claims: options.claims ?? intentClaims(intentId),
    ...(options.viaPar ? { code_challenge: await oauth.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256' } : {}),
  };
  const request = await oauth.issueRequestObject(t.as, t.client, params, { key: t.signingKey, kid: t.bank.signing.keyId });
  const url = new URL(t.as.authorization_endpoint!);
  if (options.viaPar) {
    const par = await oauth.processPushedAuthorizationResponse(t.as, t.client, await oauth.pushedAuthorizationRequest(t.as, t.client, t.auth, { request }, { [oauth.customFetch]: t.tppFetch }));
    url.search = new URLSearchParams({ client_id: t.client.client_id, request_uri: par.request_uri }).toString();
  } else {
    // The request object by value, with the OAuth parameters repeated outside it as OpenID Connect requires.
    url.search = new URLSearchParams({ client_id: t.client.client_id, response_type: 'code id_token', scope, request }).toString();
  }
  const consent = await authoriseAsUkobPsu(url, { ca: t.sandbox.ca, psuId: options.psuId ?? 'ukob-psu-1', accounts: options.accounts, debtorAccount: options.debtorAccount });
  const params2 = await oauth.validateDetachedSignatureResponse(t.as, t.client, consent.callbackUrl, nonce, state, undefined, { [oauth.customFetch]: t.sandbox.customFetch(t.sandbox.agents.none) });
  const tokenResponse = await oauth.authorizationCodeGrantRequest(t.as, t.client, t.auth, params2, UKOB_REDIRECT, options.viaPar ? verifier : oauth.nopkce, { [oauth.customFetch]: t.tppFetch });
  return { tokens: await oauth.processAuthorizationCodeResponse(t.as, t.client, tokenResponse, { expectedNonce: nonce, requireIdToken: true }), callbackUrl: consent.callbackUrl, consent };
}

export const AIS_PERMISSIONS = ['ReadAccountsDetail', 'ReadBalances', 'ReadTransactionsDetail', 'ReadTransactionsCredits', 'ReadTransactionsDebits'];

export function domesticPaymentConsentBody(overrides: { amount?: string; debtor?: { SchemeName: string; Identification: string; Name: string } } = {}) {
  return {
    Data: {
      Initiation: {
        InstructionIdentification: `INSTR-${randomUUID().slice(0, 8)}`,
        EndToEndIdentification: `E2E-${randomUUID().slice(0, 8)}`,
        InstructedAmount: { Amount: overrides.amount ?? '12.50', Currency: 'GBP' },
        ...(overrides.debtor ? { DebtorAccount: overrides.debtor } : {}),
        CreditorAccount: { SchemeName: 'UK.OBIE.SortCodeAccountNumber', Identification: '08080021325698', Name: 'ACME Ltd' },
        RemittanceInformation: { Reference: 'INV-1001' },
      },
    },
    Risk: { PaymentContextCode: 'TransferToThirdParty' },
  };
}

/** The payment submission for a consent: the same Initiation and Risk. */
export function domesticPaymentBody(consentId: string, consentBody: ReturnType<typeof domesticPaymentConsentBody>) {
  return { Data: { ConsentId: consentId, Initiation: structuredClone(consentBody.Data.Initiation) }, Risk: structuredClone(consentBody.Risk) };
}

const specAjv = addFormats(new Ajv({ strict: false, allErrors: true, validateSchema: false, logger: false }));
for (const [api, document] of Object.entries(documents.ukob)) specAjv.addSchema(document as object, `urn:test:ukob:${api}`);
const specValidators = new Map<string, ValidateFunction>();

/**
 * Asserts that a JSON body is what the 4.0 spec allows for this operation and status (its own response schema,
 * additionalProperties and all). Throws with ajv's errors otherwise.
 */
export function assertSpecResponse(api: keyof typeof manifests.ukob, operationId: string, status: number, body: unknown): void {
  const key = `${api} ${operationId} ${status}`;
  let validate = specValidators.get(key);
  if (!validate) {
    const route = manifests.ukob[api].routes.find((r) => r.operationId === operationId);
    if (!route) throw new Error(`no operation ${operationId} in ukob/${api}`);
    const document = documents.ukob[api] as unknown as { paths: Record<string, Record<string, { responses: Record<string, { $ref?: string }> }>>; components: { responses: Record<string, { content: Record<string, unknown> }> } };
    let pointer = `/paths/${route.path.replace(/~/g, '~0').replace(/\//g, '~1')}/${route.method}/responses/${status}`;
    let response = document.paths[route.path]![route.method]!.responses[String(status)] as { $ref?: string; content?: Record<string, unknown> } | undefined;
    if (!response) throw new Error(`${operationId} declares no ${status} answer`);
    if (response.$ref) {
      pointer = response.$ref.slice(1);
      response = document.components.responses[response.$ref.split('/').pop()!];
    }
    const type = Object.keys(response!.content ?? {}).find((t) => t.startsWith('application/json'));
    if (!type) throw new Error(`${operationId} ${status} has no JSON body in the spec`);
    validate = specAjv.compile({ $ref: `urn:test:ukob:${api}#${pointer}/content/${type.replace(/\//g, '~1')}/schema` });
    specValidators.set(key, validate);
  }
  if (!validate(body)) throw new Error(`${operationId} ${status} does not match the spec: ${specAjv.errorsText(validate.errors)}`);
}

/** An ISO date-time `days` from now (negative: past), with the explicit offset OB writes. */
export function daysFromNow(days: number): string {
  return new Date(Date.now() + days * 86_400_000).toISOString().replace(/\.\d{3}Z$/, '+00:00');
}

/** A domestic scheduled payment consent: 12.50 GBP to ACME Ltd, executed `executeAt` (default in a week). */
export function scheduledPaymentConsentBody(overrides: { amount?: string; executeAt?: string } = {}) {
  const { Data, Risk } = domesticPaymentConsentBody({ amount: overrides.amount });
  return { Data: { Permission: 'Create', Initiation: { ...Data.Initiation, RequestedExecutionDateTime: overrides.executeAt ?? daysFromNow(7) } }, Risk };
}

/** A domestic standing order consent: 100 GBP monthly on the 25th, 12 payments, from a week on; `mandate` overrides its MandateRelatedInformation. */
export function standingOrderConsentBody(overrides: { mandate?: Record<string, unknown>; initiation?: Record<string, unknown> } = {}) {
  return {
    Data: {
      Permission: 'Create',
      Initiation: {
        NumberOfPayments: '12',
        FirstPaymentAmount: { Amount: '100.00', Currency: 'GBP' },
        RecurringPaymentAmount: { Amount: '100.00', Currency: 'GBP' },
        CreditorAccount: { SchemeName: 'UK.OBIE.SortCodeAccountNumber', Identification: '08080021325698', Name: 'ACME Ltd' },
        RemittanceInformation: { Reference: `RENT-${randomUUID().slice(0, 8)}` },
        MandateRelatedInformation: { Frequency: { Type: 'IntrvlMnthDay:01:25' }, FirstPaymentDateTime: daysFromNow(7), ...overrides.mandate } as Record<string, unknown>,
        ...overrides.initiation,
      } as Record<string, unknown>,
    },
    Risk: { PaymentContextCode: 'TransferToThirdParty' } as Record<string, unknown>,
  };
}

/** The payment order submission for a consent of any kind: the same Initiation and Risk. */
export function paymentOrderBody(consentId: string, consentBody: { Data: { Initiation: object }; Risk: object }) {
  return { Data: { ConsentId: consentId, Initiation: structuredClone(consentBody.Data.Initiation) }, Risk: structuredClone(consentBody.Risk) };
}

/** The international payment order types' consent bodies: 250 EUR to a Berlin account, CurrencyOfTransfer EUR. */
export type InternationalKind = 'payment' | 'scheduled-payment' | 'standing-order';

/**
 * An international payment, scheduled payment (executed in a week) or standing order (monthly on the 25th, 12
 * payments, from a week on) consent: `amount` (default 250.00 EUR) in `currency` of transfer (default EUR);
 * `initiation` overrides members of its Initiation (undefined: removed).
 */
export function internationalConsentBody(kind: InternationalKind, overrides: { initiation?: Record<string, unknown> } = {}) {
  const common: Record<string, unknown> = {
    CurrencyOfTransfer: 'EUR',
    InstructedAmount: { Amount: '250.00', Currency: 'EUR' },
    CreditorAccount: { SchemeName: 'UK.OBIE.IBAN', Identification: 'DE89370400440532013000', Name: 'Muster GmbH' },
    CreditorAgent: { SchemeName: 'UK.OBIE.BICFI', Identification: 'COBADEFFXXX' },
    DestinationCountryCode: 'DE',
    ChargeBearer: 'Shared',
    RemittanceInformation: { Reference: `INV-DE-${randomUUID().slice(0, 8)}` },
  };
  const ids = { InstructionIdentification: `INSTR-${randomUUID().slice(0, 8)}`, EndToEndIdentification: `E2E-${randomUUID().slice(0, 8)}` };
  const particular: Record<InternationalKind, Record<string, unknown>> = {
    payment: ids,
    'scheduled-payment': { ...ids, RequestedExecutionDateTime: daysFromNow(7) },
    'standing-order': { NumberOfPayments: '12', MandateRelatedInformation: { Frequency: { Type: 'IntrvlMnthDay:01:25' }, FirstPaymentDateTime: daysFromNow(7) } },
  };
  const initiation: Record<string, unknown> = { ...particular[kind], ...common, ...overrides.initiation };
  for (const [name, value] of Object.entries(initiation)) if (value === undefined) delete initiation[name];
  return {
    Data: { ...(kind === 'payment' ? {} : { Permission: 'Create' }), Initiation: initiation },
    Risk: { PaymentContextCode: 'TransferToThirdParty' } as Record<string, unknown>,
  };
}

/** An OB error answer, as the 4.0 specs define it. */
export interface ObError {
  Code: string;
  Message: string;
  Errors: Array<{ ErrorCode: string; Message: string; Path?: string }>;
}

/** Asserts the bank refused with `status`, its first error `code` (at `path` when given); returns the body. */
export async function expectObError(response: Response, status: number, code: string, path?: string): Promise<ObError> {
  const text = await response.text();
  expect(response.status, text).toBe(status);
  const body = JSON.parse(text) as ObError;
  expect(body.Errors[0]!.ErrorCode, text).toBe(code);
  if (path !== undefined) expect(body.Errors[0]!.Path, text).toBe(path);
  return body;
}
