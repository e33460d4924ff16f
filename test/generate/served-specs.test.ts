// Any real spec in, served (issue 16). Small specs written for these tests (test/generate/served/specs/), each
// reproducing one class of problem, plus Up and both forms of OpenWealth from ../shared/specs (read from there, never
// copied), are generated together into a temp project, type-checked under a strict tsconfig, and served through one
// gateway in front of strict mock banks (served/spec-mock.ts: their own reading of each spec, behind real mTLS).
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { ConfigError } from '../../plugin/config/resolve-config.js';
import { createGateway, type Gateway } from '../../plugin/adapter/node/index.js';
import { silentLogger } from '../../plugin/log.js';
import type { ApiManifest, RouteManifest } from '../../plugin/manifest/types.js';
import { createCertificateAuthority, type PemPair } from '../../sandbox/pki.js';
import { errorLines, repoRoot, runGenerate, sharedSpecs } from './cli.js';
import { startSpecMock, type SpecMock } from './served/spec-mock.js';

const run = promisify(execFile);
const fixtures = join(repoRoot, 'test', 'generate', 'served', 'specs');
const DEV_KEY = 'served-specs-test-key-0123456789';

/** bank/api in the temp project ← spec (absolute), by a `.source.yaml` pointer so nothing is copied. */
const SPECS = {
  security: join(fixtures, 'security.yaml'),
  dialect: join(fixtures, 'dialect.yaml'),
  media: join(fixtures, 'media.yaml'),
  names: join(fixtures, 'names.yaml'),
  clash: join(fixtures, 'clash.yaml'),
  multi: join(fixtures, 'multi', 'api.yaml'),
  up: join(sharedSpecs, 'other-banks', 'up-bank', 'openapi.json'),
  'ow-bundle': join(sharedSpecs, 'other-banks', 'openwealth', 'custodyAPI.yaml'),
  'ow-source': join(sharedSpecs, 'other-banks', 'openwealth', 'src', 'custody', 'API.yaml'),
} as const;
type Bank = keyof typeof SPECS;

let root: string;
let stderr: string;
const manifests = new Map<Bank, ApiManifest>();
const documents = new Map<Bank, Record<string, unknown>>();

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'bankgate served specs '));
  for (const [bank, spec] of Object.entries(SPECS)) {
    await mkdir(join(root, 'openapi', bank), { recursive: true });
    const sha256 = createHash('sha256').update(await readFile(spec)).digest('hex');
    await writeFile(join(root, 'openapi', bank, 'api.source.yaml'), `source: ${JSON.stringify(spec)}\nsha256: ${sha256}\n`);
  }
  await symlink(join(repoRoot, 'plugin'), join(root, 'plugin'), 'dir');
  const result = await runGenerate(['--root', root], root);
  stderr = result.stderr;
  expect(errorLines(result)).toEqual([]);
  expect(result.code).toBe(0);
  for (const bank of Object.keys(SPECS) as Bank[]) {
    manifests.set(bank, ((await import(pathToFileURL(join(root, 'generated', bank, 'api', 'routes.ts')).href)) as { manifest: ApiManifest }).manifest);
    documents.set(bank, JSON.parse(await readFile(join(root, 'generated', bank, 'api', 'openapi.json'), 'utf8')) as Record<string, unknown>);
  }
}, 300_000);

afterAll(async () => {
  if (root) await rm(root, { recursive: true, force: true });
});

const manifest = (bank: Bank) => manifests.get(bank)!;
function route(bank: Bank, operationId: string): RouteManifest {
  const found = manifest(bank).routes.find((candidate) => candidate.operationId === operationId);
  if (!found) throw new Error(`no route ${bank} ${operationId}`);
  return found;
}

describe('generation', () => {
  it('everything type-checks under a strict tsconfig (types, SDKs that were written, routes, index)', { timeout: 240_000 }, async () => {
    const tsconfig = join(root, 'tsconfig.json');
    const compilerOptions = { target: 'ES2022', lib: ['ES2023', 'DOM', 'DOM.Iterable'], module: 'ESNext', moduleResolution: 'Bundler', resolveJsonModule: true, strict: true, noImplicitOverride: true, isolatedModules: true, skipLibCheck: true, noEmit: true, types: [] };
    await writeFile(tsconfig, JSON.stringify({ compilerOptions, include: ['generated/**/*.ts'] }));
    const tsc = await run(process.execPath, [join(repoRoot, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', tsconfig], { maxBuffer: 16 * 1024 * 1024 }).then(
      () => '',
      (error: { stdout?: string }) => error.stdout ?? String(error),
    );
    expect(tsc).toBe('');
  });

  it('SDKs compile: runtime names and unusable schema names mapped, duplicate parameter names made distinct', async () => {
    const client = join(root, 'generated', 'names', 'api', 'client');
    expect(existsSync(join(client, 'models', 'ResponseErrorModel.ts'))).toBe(true);
    expect(existsSync(join(client, 'models', 'WeirdName.ts'))).toBe(true);
    const api = await readFile(join(client, 'apis', 'DefaultApi.ts'), 'utf8');
    expect(api).toMatch(/queryParameters\['page\[size\]'\] = requestParameters\['pageSize'\]/);
    expect(api).toMatch(/queryParameters\['page\.size'\] = requestParameters\['pageSize2'\]/);
    expect(manifest('names').sdkWithheld).toBeUndefined();
  });

  it('an SDK no mapping fixes is withheld and named, with the reason, while routes and types generate', () => {
    expect(manifest('clash').sdkWithheld).toMatch(/models\/Limits\.ts:\d+: TS2300 Duplicate identifier 'daily_limit'/);
    expect(existsSync(join(root, 'generated', 'clash', 'api', 'client'))).toBe(false);
    expect(existsSync(join(root, 'generated', 'clash', 'api', 'schema.ts'))).toBe(true);
    expect(manifest('clash').routes.map((r) => r.operationId)).toEqual(['getLimits']);
    expect(stderr).toMatch(/^warning: .*clash\.yaml: the typescript-fetch SDK does not compile and was not written \(routes and types were\): .*Limits\.ts/m);
  });

  it('security: API keys, Basic and OR alternatives in the manifest; the key parameter is not the caller\'s; Digest reported', () => {
    expect(route('security', 'getAccounts')).toMatchObject({ tokenKind: 'client', scopes: ['accounts'], securityScheme: 'oauth', credentials: [{ scheme: 'apiKey', type: 'apiKey', in: 'header', name: 'API-Key' }] });
    expect(route('security', 'getAccounts').params.header).toEqual([]);
    expect(route('security', 'getRates').credentials).toBeUndefined();
    expect(route('security', 'getBranches')).toMatchObject({ tokenKind: 'none', credentials: [{ type: 'apiKey', in: 'query', name: 'key' }] });
    expect(route('security', 'getAtms')).toMatchObject({ tokenKind: 'none', credentials: [{ type: 'apiKey', in: 'cookie', name: 'session' }] });
    expect(route('security', 'getStatus')).toMatchObject({ tokenKind: 'none', credentials: [{ scheme: 'basic', type: 'basic' }] });
    expect(route('security', 'getRegister')).toMatchObject({ tokenKind: 'none', authorizationUndeclared: true });
    expect(route('security', 'getLegacy').unsupported).toBe('no security requirement can be met: scheme "digest" is http digest, which bankgate cannot send (bearer and basic only)');
    expect(stderr).toMatch(/^warning: .*security\.yaml: #\/paths\/~1legacy\/get: getLegacy: no security requirement can be met/m);
    expect(stderr).toMatch(/^warning: .*security\.yaml: #\/paths\/~1register\/get: getRegister: declares an Authorization header but no security scheme/m);
  });

  it('the OpenAPI 3.0 dialect: every operation compiles and is validated', () => {
    expect(manifest('dialect').routes.map((r) => [r.operationId, r.unvalidated])).toEqual([['createPayment', undefined], ['getQuotes', undefined]]);
  });

  it('a multi-file spec is bundled, a $ref through a $ref followed', () => {
    expect(manifest('multi').routes.map((r) => `${r.method} ${r.path} ${r.operationId}`)).toEqual(['get /accounts listAccounts', 'get /accounts/{id} getAccount']);
    const schemas = (documents.get('multi')!['components'] as { schemas: Record<string, unknown> }).schemas;
    expect(Object.keys(schemas)).toEqual(expect.arrayContaining(['Account', 'Money']));
    expect(manifest('multi').routes.every((r) => r.unvalidated === undefined)).toBe(true);
  });

  it('OpenWealth: the multi-file source generates the same operations as its published bundle', () => {
    const shape = (bank: Bank) => manifest(bank).routes.map(({ operationId, method, path, params, requestBody, scopes, tokenKind, unsupported, unvalidated }) => ({ operationId, method, path, params, requestBody, scopes, tokenKind, unsupported, unvalidated }));
    expect(shape('ow-source')).toHaveLength(10);
    expect(shape('ow-source')).toEqual(shape('ow-bundle'));
    const schemas = (bank: Bank) => Object.keys((documents.get(bank)!['components'] as { schemas: Record<string, unknown> }).schemas).sort();
    expect(schemas('ow-source')).toEqual(schemas('ow-bundle'));
  });

  it('a broken multi-file spec fails with the file and pointer where the $ref is', { timeout: 120_000 }, async () => {
    const dir = join(root, 'broken-multi');
    await mkdir(join(dir, 'paths'), { recursive: true });
    await writeFile(join(dir, 'api.yaml'), "openapi: 3.0.3\ninfo: { title: b, version: '1' }\npaths:\n  /a:\n    $ref: paths/a.yaml\n");
    await writeFile(join(dir, 'paths', 'a.yaml'), "get:\n  operationId: getA\n  responses:\n    '200':\n      description: ok\n      content:\n        application/json:\n          schema: { $ref: ../schemas/Missing.yaml }\n");
    const result = await runGenerate(['--spec', join(dir, 'api.yaml'), '--bank', 'b', '--api', 'a', '--out', join(dir, 'out')], root);
    expect(result.code).toBe(1);
    expect(errorLines(result)).toEqual([expect.stringMatching(/^error: .*paths\/a\.yaml: #\/get\/responses\/200\/content\/application~1json\/schema: .*Missing\.yaml.* \[REF_UNRESOLVED\]$/)]);
    expect(existsSync(join(dir, 'out'))).toBe(false);
  });

  it('names on the command line are checked against what the config accepts', async () => {
    const result = await runGenerate(['--spec', SPECS.media, '--bank', 'media', '--api', '200yml', '--out', join(root, 'never')], root);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('--api "200yml" must be lower-case letters, digits and dashes, starting with a letter');
    expect(result.stderr).toContain('e.g. --api api-200yml');
  });
});

describe('served through a gateway in front of strict mock banks over mTLS', () => {
  let ca: Awaited<ReturnType<typeof createCertificateAuthority>>;
  let serverPem: PemPair;
  let clientPem: PemPair;
  const mocks = new Map<Bank, SpecMock>();
  let gateway: Gateway;
  const SECRETS = { apiKey: 'header-key-7f3a9c', queryKey: 'query-key-2b8d1e', cookieKey: 'cookie-key-5c0e4a', basic: 'tpp:basic-pass-91d2', up: 'up:yeah:personal-token-0c4f' };

  const originalDocument = async (bank: Bank) => (bank === 'ow-source' ? parse(await readFile(SPECS['ow-bundle'], 'utf8')) : SPECS[bank].endsWith('.json') ? JSON.parse(await readFile(SPECS[bank], 'utf8')) : parse(await readFile(SPECS[bank], 'utf8')));

  function gatewayConfig(adjust?: (banks: Record<string, Record<string, unknown>>) => void) {
    const mtls = { cert: { value: clientPem.certPem }, key: { value: clientPem.keyPem }, ca: { value: ca.certPem } };
    const bank = (name: Bank, extra: Record<string, unknown> = {}, basePath = '/api') => ({
      apis: { api: { manifest: manifest(name), document: documents.get(name), baseUrl: `${mocks.get(name)!.origin}${basePath}`, ...(extra['api'] as object | undefined) } },
      authorizationServer: { kind: 'static', issuer: mocks.get(name)!.origin, authorizationEndpoint: `${mocks.get(name)!.origin}/authorize`, tokenEndpoint: `${mocks.get(name)!.origin}/token` },
      client: { clientId: 'tpp', auth: { method: 'tls_client_auth' } },
      mtls,
      transport: { retries: { max: 0 } },
      ...Object.fromEntries(Object.entries(extra).filter(([key]) => key !== 'api')),
    });
    const banks: Record<string, Record<string, unknown>> = {
      security: bank('security', {
        credentials: { apiKey: { apiKey: { value: SECRETS.apiKey } }, queryKey: { apiKey: { value: SECRETS.queryKey } }, cookieKey: { apiKey: { value: SECRETS.cookieKey } }, basic: { basic: { username: 'tpp', password: { value: 'basic-pass-91d2' } } } },
        api: { authorization: { token: 'client', scopes: ['accounts'] } },
      }),
      dialect: bank('dialect'),
      media: bank('media'),
      up: bank('up', { credentials: { bearer_auth: { bearer: { value: SECRETS.up } } } }, '/api/v1'),
      'ow-bundle': bank('ow-bundle', {}, ''),
      'ow-source': bank('ow-source', {}, ''),
    };
    adjust?.(banks);
    // Responses are reported, not enforced: the mock's bodies are its examples or minimal instances, not the point here.
    return { callers: { devKey: { value: DEV_KEY } }, validation: { requests: true, responses: 'report' }, banks };
  }

  beforeAll(async () => {
    ca = await createCertificateAuthority('bankgate served-specs test CA');
    serverPem = await ca.issueServer();
    clientPem = await ca.issueClient({ commonName: 'tpp.example' });
    const basePaths: Partial<Record<Bank, string>> = { up: '/api/v1', 'ow-bundle': '', 'ow-source': '' };
    for (const bank of ['security', 'dialect', 'media', 'up', 'ow-bundle', 'ow-source'] as const) {
      mocks.set(bank, await startSpecMock({ document: await originalDocument(bank), basePath: basePaths[bank] ?? '/api', tls: { server: serverPem, ca: ca.certPem }, secrets: bank === 'up' ? { bearer_auth: SECRETS.up } : SECRETS, accessToken: 'cc-token-for-tpp' }));
    }
    gateway = await createGateway(gatewayConfig() as unknown as Parameters<typeof createGateway>[0], { log: silentLogger });
  }, 60_000);

  afterAll(async () => {
    await gateway?.close();
    await Promise.all([...mocks.values()].map((mock) => mock.close()));
  });

  const call = (path: string, init: { method?: string; headers?: Record<string, string>; body?: string } = {}) =>
    gateway.app.request(path, { method: init.method ?? 'GET', headers: { authorization: `Bearer ${DEV_KEY}`, ...init.headers }, ...(init.body !== undefined ? { body: init.body } : {}) });

  it('OAuth AND a header API key: the configured key reaches the bank on every call, a caller\'s never does', async () => {
    const mock = mocks.get('security')!;
    for (let i = 0; i < 3; i++) {
      const response = await call('/security/api/accounts', { headers: { 'API-Key': 'caller-chosen-key' } });
      expect(response.status).toBe(200);
    }
    const calls = mock.calls('getAccounts');
    expect(calls).toHaveLength(3);
    for (const request of calls) {
      expect(request.headers['api-key']).toBe(SECRETS.apiKey);
      expect(request.headers.authorization).toBe('Bearer cc-token-for-tpp');
    }
  });

  it('an OAuth-only operation never carries the key', async () => {
    expect((await call('/security/api/rates', { headers: { 'API-Key': 'caller-chosen-key' } })).status).toBe(200);
    const [request] = mocks.get('security')!.calls('getRates');
    expect(request!.headers['api-key']).toBeUndefined();
    expect(request!.headers.authorization).toBe('Bearer cc-token-for-tpp');
  });

  it('query and cookie keys, HTTP Basic, and the Authorization-without-scheme token from config', async () => {
    const mock = mocks.get('security')!;
    expect((await call('/security/api/branches?city=Ghent&key=caller-key')).status).toBe(200);
    const [branches] = mock.calls('getBranches');
    expect(branches!.query.getAll('key')).toEqual([SECRETS.queryKey]);
    expect(branches!.query.get('city')).toBe('Ghent');
    expect(branches!.headers.authorization).toBeUndefined();
    expect((await call('/security/api/atms', { headers: { cookie: 'session=caller' } })).status).toBe(200);
    expect(mock.calls('getAtms')[0]!.headers.cookie).toBe(`session=${SECRETS.cookieKey}`);
    expect((await call('/security/api/status')).status).toBe(200);
    expect(mock.calls('getStatus')[0]!.headers.authorization).toBe(`Basic ${Buffer.from(SECRETS.basic).toString('base64')}`);
    expect((await call('/security/api/register')).status).toBe(200);
    expect(mock.calls('getRegister')[0]!.headers.authorization).toBe('Bearer cc-token-for-tpp');
  });

  it('a missing credential or token choice stops the gateway at start, naming the config path and the fix', async () => {
    const error = await createGateway(
      gatewayConfig((banks) => {
        delete (banks['security']!['credentials'] as Record<string, unknown>)['apiKey'];
        delete (banks['security']!['apis'] as { api: Record<string, unknown> }).api['authorization'];
      }) as unknown as Parameters<typeof createGateway>[0],
      { log: silentLogger },
    ).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).code).toBe('config_invalid');
    expect((error as ConfigError).problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^banks\.security\.credentials\.apiKey: api\/getAccounts requires the API key "apiKey"; set \{ apiKey: \{ env: 'NAME' \} \} \(sent as header API-Key\)$/),
        expect.stringMatching(/^banks\.security\.apis\.api\.authorization: getRegister declares an Authorization header but no security scheme; say which token it takes/),
      ]),
    );
  });

  it('the OpenAPI 3.0 dialect: a violating request is refused with 400 before the bank, a valid one served and its answer validated', async () => {
    const violations = (operation: string) => gateway.metrics.value('bankgate_response_violations_total', { bank: 'dialect', api: 'api', operation }) ?? 0;
    const mock = mocks.get('dialect')!;
    const refused = await call('/dialect/api/payments', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ amount: 0, currency: 'EUR' }) });
    expect(refused.status).toBe(400);
    const problem = (await refused.json()) as { code: string; violations: { at: string }[] };
    expect(problem.code).toBe('bad_request');
    expect(problem.violations.map((v) => v.at)).toEqual(['body/amount']);
    const tooLong = await call('/dialect/api/payments', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ amount: 5, currency: 'EUR', note: 'far too long a note' }) });
    expect(tooLong.status).toBe(400);
    expect((await call('/dialect/api/quotes?limit=100')).status).toBe(400);
    expect(mock.calls()).toHaveLength(0);
    const created = await call('/dialect/api/payments', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ amount: 0.01, currency: 'EUR', reference: 'r', note: null }) });
    expect(created.status).toBe(201);
    expect(await created.json()).toEqual({ status: 'ACCP', fee: null });
    expect((await call('/dialect/api/quotes?limit=99')).status).toBe(200);
    expect(mock.calls().map((r) => r.status)).toEqual([201, 200]);
    // The answers (a null fee, an enum) were validated against the 3.0 schemas and found right.
    expect([violations('createPayment'), violations('getQuotes')]).toEqual([0, 0]);
  });

  it('media types: */* takes any content type; parameters, case and +json suffixes match by the rules', async () => {
    const mock = mocks.get('media')!;
    for (const type of ['text/csv', 'application/octet-stream', 'application/json']) {
      expect((await call('/media/api/uploads', { method: 'POST', headers: { 'content-type': type }, body: 'a,b\n1,2\n' })).status).toBe(204);
    }
    expect(mock.calls('upload').map((r) => r.headers['content-type'])).toEqual(['text/csv', 'application/octet-stream', 'application/json']);
    for (const type of ['application/json; charset=utf-8', 'Application/JSON']) {
      expect((await call('/media/api/documents', { method: 'POST', headers: { 'content-type': type }, body: '{"title":"t"}' })).status).toBe(204);
    }
    const wrongType = await call('/media/api/documents', { method: 'POST', headers: { 'content-type': 'text/plain' }, body: '{"title":"t"}' });
    expect(wrongType.status).toBe(400);
    expect(((await wrongType.json()) as { violations: { at: string }[] }).violations.map((v) => v.at)).toEqual(['header.Content-Type']);
    expect((await call('/media/api/events', { method: 'POST', headers: { 'content-type': 'application/vnd.bank.event+json' }, body: '{"kind":"k"}' })).status).toBe(204);
    expect((await call('/media/api/events', { method: 'POST', headers: { 'content-type': 'application/vnd.bank.event+json' }, body: '{}' })).status).toBe(400);
    expect(mock.calls().filter((r) => r.status >= 400)).toEqual([]);
  });

  it('what cannot be validated is said in the manifest and counted on every call, never passed in silence', async () => {
    expect(route('media', 'uploadStatement').unvalidated).toBe('request body as application/xml: no JSON schema to validate it against; forwarded as sent');
    const labels = { bank: 'media', api: 'api', operation: 'uploadStatement', part: 'body' };
    for (let i = 0; i < 2; i++) expect((await call('/media/api/statements', { method: 'POST', headers: { 'content-type': 'application/xml' }, body: '<s id="1"/>' })).status).toBe(204);
    expect(gateway.metrics.value('bankgate_requests_unvalidated_total', labels)).toBe(2);
    expect(gateway.metrics.render()).toContain('bankgate_requests_unvalidated_total{');
  });

  it('Up: every operation served with the static personal token from config', async () => {
    const served = await serveAll('up', { 'page[size]': '2' });
    expect(served.length).toBe(20);
    const statuses = Object.fromEntries(served);
    expect(Object.values(statuses).every((status) => status < 300)).toBe(true);
    expect(mocks.get('up')!.calls().every((r) => r.headers.authorization === `Bearer ${SECRETS.up}`)).toBe(true);
  });

  it('OpenWealth: both forms serve every operation, the mock checking each request against the published bundle', async () => {
    for (const bank of ['ow-bundle', 'ow-source'] as const) {
      const served = await serveAll(bank, { date: '2026-01-01', 'X-Correlation-ID': 'corr-1' });
      expect(served).toHaveLength(10);
      expect(served.filter(([, status]) => status !== 200)).toEqual([]);
    }
  });

  /** Calls every operation of an API once with its required parameters (`values` by name, else a plain string). */
  async function serveAll(bank: Bank, values: Record<string, string>): Promise<[string, number][]> {
    const out: [string, number][] = [];
    const bodies: Record<string, string> = {
      post: '{"data":{"attributes":{"url":"https://hooks.example/up"}}}',
      patch: '{"data":{"type":"categories","id":"restaurants-and-cafes"}}',
      delete: '{"data":[{"type":"tags","id":"Holiday"}]}',
    };
    for (const r of manifest(bank).routes) {
      const path = r.path.replace(/\{([^}]+)\}/g, (_, name: string) => encodeURIComponent(values[name] ?? `${name}-1`));
      const query = new URLSearchParams(r.params.query.filter((p) => p.required || values[p.name] !== undefined).map((p) => [p.name, values[p.name] ?? 'v']));
      const headers: Record<string, string> = Object.fromEntries(r.params.header.filter((p) => p.required).map((p) => [p.name, values[p.name] ?? 'h']));
      let body: string | undefined;
      if (r.requestBody) {
        body = r.path.endsWith('/tags') ? '{"data":[{"type":"tags","id":"Holiday"}]}' : bodies[r.method];
        headers['content-type'] = 'application/json';
      }
      const response = await call(`/${bank}/api${path}${query.size > 0 ? `?${query}` : ''}`, { method: r.method.toUpperCase(), headers, ...(body !== undefined ? { body } : {}) });
      if (response.status >= 300) console.error(bank, r.operationId, response.status, await response.text());
      out.push([r.operationId, response.status]);
    }
    return out;
  }
});
