/**
 * Driving the bg bank directly over mTLS, as a TPP does: XS2A calls with the gateway's QWAC (every answer checked
 * against the 1.3.9 spec, as the gateway's `responses: 'enforce'` will), its OAuth server through oauth4webapi,
 * the sandbox PSU through the headless helpers.
 */
import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { Ajv, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import * as oauth from 'oauth4webapi';
import { Agent, fetch } from 'undici';
import { expect } from 'vitest';
import { documents, manifests } from '../../generated/index.js';
import type { SandboxBgBank } from '../../sandbox/bg/index.js';
import { authoriseAtBank, type HeadlessPsuOptions } from '../../sandbox/headless-psu.js';
import type { ApiManifest } from '../../plugin/manifest/types.js';
import { createRouteTable } from '../../sandbox/route-table.js';
import { startTestSandbox, type TestSandbox } from './helpers.js';
import type { StartSandboxOptions } from '../../sandbox/index.js';

const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv;

export interface Xs2aResponse<T = Record<string, any>> {
  readonly status: number;
  readonly headers: Headers;
  readonly body: T;
}

export interface BgCallOptions {
  readonly headers?: Record<string, string>;
  readonly body?: unknown;
  /** Default: the gateway's bg QWAC. */
  readonly agent?: Agent;
  readonly token?: string;
  /** Send `PSU-IP-Address` (the PSU is present). Default true; account reads pass false for unattended ones. */
  readonly psuPresent?: boolean;
}

export interface BgSandbox extends TestSandbox {
  readonly bg: SandboxBgBank;
  /** The gateway's bg QWAC, and a QWAC of another TPP (the SEB one: another organizationIdentifier). */
  readonly bgAgents: { tpp: Agent; otherTpp: Agent };
  call(method: string, path: string, options?: BgCallOptions): Promise<Xs2aResponse>;
  /** The bank's control plane for bg. */
  control(method: 'GET' | 'POST', path: string, body?: unknown): Promise<{ status: number; body: Record<string, any> }>;
  /** authoriseAtBank with the sandbox CA. */
  psu(url: string, options: Omit<HeadlessPsuOptions, 'ca'>): ReturnType<typeof authoriseAtBank>;
}

type SpecDocument = { paths: Record<string, Record<string, { responses: Record<string, unknown> }>>; components: { responses?: Record<string, unknown> } };

/** The spec's JSON schema for an operation's answer, by JSON pointer into the normalised document. */
function responsePointer(document: SpecDocument, path: string, method: string, status: number): string | undefined {
  const responses = document.paths[path]?.[method]?.responses;
  const response = (responses?.[String(status)] ?? responses?.default) as { $ref?: string; content?: Record<string, unknown> } | undefined;
  if (!response) return undefined;
  const escaped = (s: string) => s.replace(/~/g, '~0').replace(/\//g, '~1');
  const base = response.$ref ? response.$ref.slice(1) : `/paths/${escaped(path)}/${method}/responses/${status}`;
  const resolved = response.$ref ? (document.components.responses?.[response.$ref.split('/').pop()!] as { content?: Record<string, unknown> }) : response;
  return resolved.content?.['application/json'] ? `${base}/content/application~1json/schema` : undefined;
}

/**
 * Checks a bank's answer against its own spec (the normalised document the gateway validates with), by the
 * operation the method and path match: throws naming the operation and the violations.
 */
export function createSpecChecker(document: SpecDocument, manifest: ApiManifest, basePath: string) {
  const ajv = addFormats(new Ajv({ strict: false, allErrors: true, validateSchema: false, discriminator: false, logger: false }));
  ajv.addSchema(document as object, 'spec');
  const table = createRouteTable([{ name: manifest.api, basePath, manifest }]);
  const compiled = new Map<string, ValidateFunction>();
  return function check(method: string, pathname: string, status: number, body: unknown): void {
    const match = table.match(method, pathname);
    if (!match || status === 204) return;
    const pointer = responsePointer(document, match.route.path, match.route.method, status);
    // Injected faults answer 5xx statuses some operations do not declare.
    if (!pointer && status >= 500) return;
    if (!pointer) throw new Error(`${method} ${pathname} answered ${status}, which the spec does not declare for ${match.route.operationId}`);
    let validate = compiled.get(pointer);
    if (!validate) compiled.set(pointer, (validate = ajv.compile({ $ref: `spec#${pointer}` })));
    if (!validate(body)) {
      throw new Error(`${match.route.operationId} ${status} breaks the spec: ${ajv.errorsText(validate.errors)} in ${JSON.stringify(body).slice(0, 400)}`);
    }
  };
}

export async function startBgSandbox(options: Omit<StartSandboxOptions, 'dir'> = {}): Promise<BgSandbox> {
  const sandbox = await startTestSandbox(options);
  const bg = sandbox.file.banks.bg;
  const [cert, key] = await Promise.all([readFile(bg.mtls.certFile, 'utf8'), readFile(bg.mtls.keyFile, 'utf8')]);
  const [otherCert, otherKey] = await Promise.all([readFile(sandbox.file.banks.seb.mtls.certFile, 'utf8'), readFile(sandbox.file.banks.seb.mtls.keyFile, 'utf8')]);
  const bgAgents = { tpp: new Agent({ connect: { ca: sandbox.ca, cert, key } }), otherTpp: new Agent({ connect: { ca: sandbox.ca, cert: otherCert, key: otherKey } }) };
  const check = createSpecChecker(documents.bg.xs2a as unknown as SpecDocument, manifests.bg.xs2a, '/psd2');
  const base = new URL(bg.apis.xs2a!);

  return {
    ...sandbox,
    bg,
    bgAgents,
    async call(method, path, options = {}) {
      const url = new URL(path.startsWith('/psd2') ? path : `${base.pathname}${path}`, base.origin);
      const headers: Record<string, string> = {
        'x-request-id': randomUUID(),
        accept: 'application/json',
        ...(options.psuPresent === false ? {} : { 'psu-ip-address': '192.0.2.10' }),
        ...(options.body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
        ...options.headers,
      };
      const response = await fetch(url, {
        method,
        headers,
        body: options.body === undefined ? undefined : JSON.stringify(options.body),
        dispatcher: options.agent ?? bgAgents.tpp,
      });
      const text = await response.text();
      const body = text ? (JSON.parse(text) as Record<string, any>) : {};
      check(method, url.pathname, response.status, body);
      return { status: response.status, headers: response.headers as unknown as Headers, body };
    },
    async control(method, path, body) {
      const response = await fetch(`${bg.controlUrl}${path}`, {
        method,
        ...(body === undefined ? {} : { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }),
      });
      return { status: response.status, body: (await response.json()) as Record<string, any> };
    },
    psu(url, options) {
      return authoriseAtBank(url, { ca: sandbox.ca, ...options });
    },
    async close() {
      await Promise.all(Object.values(bgAgents).map((a) => a.close()));
      await sandbox.close();
    },
  };
}

/** A consent body: all PSD2 access (default) or explicit IBANs. */
export function consentBody(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    access: { allPsd2: 'allAccounts' },
    recurringIndicator: true,
    validUntil: new Date(Date.now() + 30 * 86_400_000).toISOString().slice(0, 10),
    frequencyPerDay: 4,
    combinedServiceIndicator: false,
    ...overrides,
  };
}

export const TPP_REDIRECT = 'http://127.0.0.1:4567/sca/bg/done';
export const OAUTH_REDIRECT = 'http://127.0.0.1:4567/callback/bg';

/** The bank's OAuth server, from the `scaOAuth` link (RFC 8414 metadata). */
export async function bgAuthorizationServer(sandbox: BgSandbox, metadataUrl: string): Promise<oauth.AuthorizationServer> {
  const issuer = new URL(sandbox.bg.authorizationServer.issuer);
  expect(metadataUrl).toBe(`${issuer.origin}/.well-known/oauth-authorization-server`);
  const response = await oauth.discoveryRequest(issuer, { algorithm: 'oauth2', [oauth.customFetch]: sandbox.customFetch(sandbox.agents.none) });
  return oauth.processDiscoveryResponse(issuer, response);
}

/**
 * The OAuth flow for a scope (`AIS:<consentId>`, `PIS:<paymentId>`, or the pre-step's `AIS` / `PIS`): authorize with
 * PKCE, the sandbox PSU logs in headlessly, code → token with tls_client_auth on the mTLS alias.
 */
export async function bgOAuth(
  sandbox: BgSandbox,
  scope: string,
  psu: Omit<HeadlessPsuOptions, 'ca'>,
  metadataUrl = sandbox.bg.authorizationServer.metadataUrl,
): Promise<oauth.TokenEndpointResponse> {
  const as = await bgAuthorizationServer(sandbox, metadataUrl);
  const client: oauth.Client = { client_id: sandbox.bg.client.clientId, use_mtls_endpoint_aliases: true };
  const verifier = oauth.generateRandomCodeVerifier();
  const state = oauth.generateRandomState();
  const url = new URL(as.authorization_endpoint!);
  url.search = new URLSearchParams({
    client_id: client.client_id,
    response_type: 'code',
    redirect_uri: OAUTH_REDIRECT,
    scope,
    state,
    code_challenge: await oauth.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
  }).toString();
  const { returnUrl } = await sandbox.psu(url.href, psu);
  const params = oauth.validateAuthResponse(as, client, returnUrl, state);
  const response = await oauth.authorizationCodeGrantRequest(as, client, oauth.TlsClientAuth(), params, OAUTH_REDIRECT, verifier, {
    [oauth.customFetch]: sandbox.customFetch(sandbox.bgAgents.tpp),
  });
  return oauth.processAuthorizationCodeResponse(as, client, response);
}
