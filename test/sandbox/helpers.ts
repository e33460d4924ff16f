/** Shared plumbing for the sandbox tests: a sandbox in a temp dir, mTLS agents, an independent request signer. */
import { createHash, createSign, randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as oauth from 'oauth4webapi';
import { Agent, fetch } from 'undici';
import { startSandbox, type StartSandboxOptions } from '../../sandbox/index.js';
import type { SandboxFile, SandboxPemPair } from '../../sandbox/sandbox-file.js';
import { consentHeadlessly } from '../../sandbox/headless-consent.js';

export interface TestSandbox {
  readonly file: SandboxFile;
  readonly ca: string;
  /** undici Agents presenting each client certificate, all trusting the sandbox CA. */
  readonly agents: { seb: Agent; sg: Agent; untrusted: Agent; none: Agent };
  /** `fetch` through an agent. */
  fetch(agent: Agent, url: string | URL, init?: RequestInit): Promise<Response>;
  /** oauth4webapi's customFetch through an agent. */
  customFetch(agent: Agent): (url: string, options: oauth.CustomFetchOptions<string, unknown>) => Promise<Response>;
  close(): Promise<void>;
}

async function pair(files: SandboxPemPair): Promise<{ cert: string; key: string }> {
  const [cert, key] = await Promise.all([readFile(files.certFile, 'utf8'), readFile(files.keyFile, 'utf8')]);
  return { cert, key };
}

export async function startTestSandbox(options: Omit<StartSandboxOptions, 'dir'> = {}): Promise<TestSandbox> {
  const dir = await mkdtemp(join(tmpdir(), 'bankgate-sandbox-'));
  const sandbox = await startSandbox({ ...options, dir }).catch(async (error: unknown) => {
    await rm(dir, { recursive: true, force: true });
    throw error;
  });
  const { file } = sandbox;
  const ca = await readFile(file.caFile, 'utf8');
  const agent = async (files?: SandboxPemPair) => new Agent({ connect: { ca, ...(files ? await pair(files) : {}) } });
  const agents = {
    seb: await agent(file.banks.seb.mtls),
    sg: await agent(file.banks.sg.mtls),
    untrusted: await agent(file.untrustedClientCert),
    none: await agent(),
  };
  const viaAgent = (agentToUse: Agent, url: string | URL, init: RequestInit = {}) =>
    // undici's own fetch: Node's global fetch bundles another undici, whose handlers this Agent refuses.
    fetch(url, { ...init, dispatcher: agentToUse } as Parameters<typeof fetch>[1]) as unknown as Promise<Response>;
  return {
    file,
    ca,
    agents,
    fetch: viaAgent,
    customFetch: (agentToUse) => (url, options) => viaAgent(agentToUse, url, options as RequestInit),
    async close() {
      await Promise.all(Object.values(agents).map((a) => a.close()));
      await sandbox.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

export const REDIRECT = { seb: 'http://127.0.0.1:4567/callback/seb', sg: 'http://localhost:8123/callback/sg' } as const;

/** The SEB-like bank's static metadata, as the gateway configures it (SEB publishes no discovery). */
export function sebAuthorizationServer(file: SandboxFile): oauth.AuthorizationServer {
  const as = file.banks.seb.authorizationServer;
  return {
    issuer: as.issuer,
    authorization_endpoint: as.authorizationEndpoint,
    token_endpoint: as.tokenEndpoint,
    authorization_response_iss_parameter_supported: true,
    code_challenge_methods_supported: ['S256'],
  };
}

export async function sgAuthorizationServer(sandbox: TestSandbox): Promise<oauth.AuthorizationServer> {
  const issuer = new URL(sandbox.file.banks.sg.authorizationServer.issuer);
  const response = await oauth.discoveryRequest(issuer, { [oauth.customFetch]: sandbox.customFetch(sandbox.agents.none) });
  return oauth.processDiscoveryResponse(issuer, response);
}

export interface AuthorizationCodeFlow {
  readonly tokens: oauth.TokenEndpointResponse;
  readonly steps: Awaited<ReturnType<typeof consentHeadlessly>>['steps'];
  readonly callbackUrl: URL;
}

/** The full redirect flow for SEB: PKCE, state, client_secret_post. */
export async function sebAuthorizationCode(sandbox: TestSandbox, scope = 'psd2_accounts psd2_payments', psuId = '9311219639'): Promise<AuthorizationCodeFlow> {
  const as = sebAuthorizationServer(sandbox.file);
  const client: oauth.Client = { client_id: sandbox.file.banks.seb.client.clientId };
  const verifier = oauth.generateRandomCodeVerifier();
  const state = oauth.generateRandomState();
  const url = new URL(as.authorization_endpoint!);
  url.search = new URLSearchParams({
    client_id: client.client_id,
    response_type: 'code',
    redirect_uri: REDIRECT.seb,
    scope,
    state,
    code_challenge: await oauth.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
  }).toString();
  const { callbackUrl, steps } = await consentHeadlessly(url, { ca: sandbox.ca, psuId });
  const params = oauth.validateAuthResponse(as, client, callbackUrl, state);
  const response = await oauth.authorizationCodeGrantRequest(
    as,
    client,
    oauth.ClientSecretPost(sandbox.file.banks.seb.client.clientSecret!),
    params,
    REDIRECT.seb,
    verifier,
    { [oauth.customFetch]: sandbox.customFetch(sandbox.agents.none) },
  );
  return { tokens: await oauth.processAuthorizationCodeResponse(as, client, response), steps, callbackUrl };
}

export function sgClient(file: SandboxFile): oauth.Client {
  return { client_id: file.banks.sg.client.clientId, use_mtls_endpoint_aliases: true, id_token_signed_response_alg: 'ES256' };
}

/** The full OIDC flow for SG: discovery, openid + acr_values=L1, PKCE, nonce, tls_client_auth on the mTLS alias. */
export async function sgAuthorizationCode(sandbox: TestSandbox, scope = 'openid aisp cbpii', psuId = 'sg-psu-1'): Promise<AuthorizationCodeFlow> {
  const as = await sgAuthorizationServer(sandbox);
  const client = sgClient(sandbox.file);
  const verifier = oauth.generateRandomCodeVerifier();
  const state = oauth.generateRandomState();
  const nonce = oauth.generateRandomNonce();
  const url = new URL(as.authorization_endpoint!);
  url.search = new URLSearchParams({
    client_id: client.client_id,
    response_type: 'code',
    redirect_uri: REDIRECT.sg,
    scope,
    state,
    nonce,
    acr_values: 'L1',
    code_challenge: await oauth.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
  }).toString();
  const { callbackUrl, steps } = await consentHeadlessly(url, { ca: sandbox.ca, psuId });
  const params = oauth.validateAuthResponse(as, client, callbackUrl, state);
  const response = await oauth.authorizationCodeGrantRequest(as, client, oauth.TlsClientAuth(), params, REDIRECT.sg, verifier, {
    [oauth.customFetch]: sandbox.customFetch(sandbox.agents.sg),
  });
  const tokens = await oauth.processAuthorizationCodeResponse(as, client, response, { expectedNonce: nonce, requireIdToken: true });
  return { tokens, steps, callbackUrl };
}

/** Headers of a SEB resource call. */
export function sebHeaders(accessToken: string): Record<string, string> {
  return { authorization: `Bearer ${accessToken}`, 'x-request-id': randomUUID(), 'psu-ip-address': '192.0.2.10', accept: 'application/json' };
}

/**
 * A draft-cavage signer written for the tests, independent of the sandbox's verifier, so that a shared
 * misunderstanding of the signing string cannot make both sides agree on something wrong.
 */
export async function sgSignedHeaders(
  file: SandboxFile,
  method: string,
  url: string,
  accessToken: string,
  body = '',
): Promise<Record<string, string>> {
  const key = await readFile(file.banks.sg.signing!.keyFile, 'utf8');
  const target = new URL(url);
  const digest = `SHA-256=${createHash('sha256').update(body).digest('base64')}`;
  const requestId = randomUUID();
  const signingString = [
    `(request-target): ${method.toLowerCase()} ${target.pathname}${target.search}`,
    `digest: ${digest}`,
    `x-request-id: ${requestId}`,
  ].join('\n');
  const signature = createSign('sha256').update(signingString).sign(key, 'base64');
  return {
    authorization: `Bearer ${accessToken}`,
    'x-request-id': requestId,
    digest,
    signature: `keyId="${file.banks.sg.signing!.keyId}",algorithm="rsa-sha256",headers="(request-target) digest x-request-id",signature="${signature}"`,
    accept: 'application/hal+json',
    ...(body ? { 'content-type': 'application/json' } : {}),
  };
}
