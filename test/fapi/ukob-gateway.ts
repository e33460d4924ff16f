/**
 * The gateway in front of the sandbox's `ukob` bank, as an operator would run it: the sandbox banks started (in the
 * FAPI profile asked for), the gateway built by bankgate/node from a config whose `ukob` bank speaks UK Open Banking
 * (`consent.protocol: 'uk-open-banking'`, `private_key_jwt`, the profile's authorization requests), served on a
 * loopback socket by the Node handler. The PSU is the sandbox's headless PSU.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { documents } from '../../generated/index.js';
import { createGateway, createNodeHandler } from '../../plugin/adapter/node/index.js';
import type { Gateway } from '../../plugin/index.js';
import { silentLogger } from '../../plugin/log.js';
import { startSandbox } from '../../sandbox/index.js';
import type { SandboxFile } from '../../sandbox/sandbox-file.js';
import { authoriseAsUkobPsu, type UkobPsuChoice } from '../../sandbox/ukob/headless-psu.js';
import { expect } from 'vitest';
import { ukobBankConfig, type BankConfig } from './fapi-bank.js';

export const DEV_KEY = 'fapi-gateway-dev-key-0123456789';

export interface UkobGateway {
  readonly sandbox: SandboxFile;
  readonly gateway: Gateway;
  readonly url: string;
  readonly ca: string;
  /** A call to the gateway with the dev key. */
  call(path: string, init?: { method?: string; headers?: Record<string, string>; body?: unknown }): Promise<Response>;
  /** `POST /connections` for `ukob`; throws unless 201. */
  begin(connectionId: string, headers?: Record<string, string>, fields?: Record<string, unknown>): Promise<{ authorizeUrl: string; status: string }>;
  /**
   * The PSU at the bank, then its browser back at the gateway's callback. A FAPI 1 hybrid response comes in the
   * fragment, which a browser never sends: the page at the callback relays it as the query, as done here.
   */
  authorise(authorizeUrl: string, choice?: Partial<UkobPsuChoice>): Promise<Response>;
  /** Token requests the bank answered, by grant type. */
  tokenRequests(): Promise<Record<string, number>>;
  /** The requests the bank received (path, headers). */
  bankRequests(): Promise<{ method: string; path: string; headers: Record<string, string>; status: number }[]>;
  close(): Promise<void>;
}

export interface UkobGatewayOptions {
  /** Edits the `ukob` bank's config before the gateway validates it. */
  readonly adjust?: (bank: BankConfig) => BankConfig;
  /** The gateway's clock (the bank keeps the real one). */
  readonly now?: () => number;
  /** Mount the bank's OpenAPI documents and validate requests against them (the surface document describes them). */
  readonly documents?: boolean;
  /** The bank's access token lifetime (default: the sandbox's, 300 s). */
  readonly accessTtlSeconds?: number;
}

export async function startUkobGateway(profile: '2.0' | '1.0', options: UkobGatewayOptions = {}): Promise<UkobGateway> {
  const { adjust, now, documents: withDocuments, accessTtlSeconds } = options;
  const dir = mkdtempSync(join(tmpdir(), 'bankgate-fapi-gw-'));
  const sandbox = await startSandbox({ dir, writeFile: false, ukobFapiProfile: profile, log: () => {}, ...(accessTtlSeconds !== undefined ? { accessTtlSeconds } : {}) });
  let port = 0;
  const ukob = sandbox.file.banks.ukob;
  const bank: BankConfig = {
    ...ukobBankConfig(sandbox.file),
    consent: { protocol: 'uk-open-banking' },
    // x-jws-signature with the TPP's signing key; the bank's signed payment and VRP answers verified with its JWKS.
    jws: {
      keyId: ukob.signing.keyId,
      key: { file: ukob.signing.keyFile },
      issuer: ukob.signing.jwsIssuer,
      trustAnchor: ukob.signing.trustAnchor,
      verify: { jwksUrl: ukob.bankSigning.jwksUrl, issuer: ukob.bankSigning.issuer, trustAnchor: ukob.bankSigning.trustAnchor, apis: ['pisp', 'vrp'] },
    },
  };
  if (withDocuments) {
    bank.apis = Object.fromEntries(Object.entries(bank.apis).map(([name, api]) => [name, { ...api, document: documents.ukob[name as keyof typeof documents.ukob] }]));
  }
  const gateway = await createGateway(
    { store: 'memory', banks: { ukob: adjust ? adjust(bank) : bank }, ...(withDocuments ? { validation: { requests: true, responses: 'enforce' as const } } : {}) },
    { publicUrl: () => `http://127.0.0.1:${port}`, log: silentLogger, env: { ...process.env, BANKGATE_DEV_KEY: DEV_KEY }, ...(now ? { now } : {}) },
  );
  const server: Server = createServer(createNodeHandler(gateway));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
  const url = `http://127.0.0.1:${port}`;
  const ca = readFileSync(sandbox.file.caFile, 'utf8');

  const call: UkobGateway['call'] = (path, init = {}) =>
    fetch(url + path, {
      method: init.method ?? 'GET',
      headers: { authorization: `Bearer ${DEV_KEY}`, ...(init.body !== undefined ? { 'content-type': 'application/json' } : {}), ...init.headers },
      body: init.body === undefined ? undefined : JSON.stringify(init.body),
    });

  return {
    sandbox: sandbox.file,
    gateway,
    url,
    ca,
    call,
    async begin(connectionId, headers = {}, fields = {}) {
      const created = await call('/connections', { method: 'POST', body: { bank: 'ukob', connectionId, ...fields }, headers });
      const body = (await created.json()) as { authorizeUrl: string; status: string; detail?: string };
      if (created.status !== 201) throw new Error(`POST /connections: ${created.status} ${body.detail}`);
      return body;
    },
    async authorise(authorizeUrl, choice = {}) {
      const { callbackUrl, params } = await authoriseAsUkobPsu(authorizeUrl, { ca, psuId: 'ukob-psu-1', ...choice });
      const back = new URL(callbackUrl.pathname, callbackUrl.origin);
      back.search = params.toString();
      return fetch(back);
    },
    async tokenRequests() {
      return ((await (await fetch(sandbox.file.statsUrl)).json()) as { banks: { ukob: { tokenRequests: Record<string, number> } } }).banks.ukob.tokenRequests;
    },
    async bankRequests() {
      return (await (await fetch(`${sandbox.file.controlUrl}/requests?bank=ukob`)).json()) as { method: string; path: string; headers: Record<string, string>; status: number }[];
    },
    async close() {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await gateway.close();
      await sandbox.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * Asserts the gateway passed the bank's 400 on as a `bank_bad_request` problem, the bank's message `code` at `path`
 * among its `bankMessages`.
 */
export async function expectBankRefusal(response: Response, code: string, path?: string): Promise<void> {
  const text = await response.text();
  expect(response.status, text).toBe(400);
  expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  const problem = JSON.parse(text) as { code: string; bankMessages: { code?: string; path?: string }[] };
  expect(problem.code).toBe('bank_bad_request');
  expect(problem.bankMessages).toContainEqual(expect.objectContaining(path === undefined ? { code } : { code, path }));
}
