// Every real bank spec in ../shared/specs, through the one-off form into a temp dir: it either generates and the
// output type-checks under a strict tsconfig, or it fails with a precise message. Never a crash.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiManifest, RouteManifest } from '../../plugin/manifest/types.js';
import { errorLines, repoRoot, runGenerate, sharedSpecs } from './cli.js';

const TIMEOUT = 150_000;
const run = promisify(execFile);
let dir: string;

beforeAll(async () => {
  if (!existsSync(sharedSpecs)) throw new Error(`the real bank specs are expected at ${sharedSpecs}`);
  dir = await mkdtemp(join(tmpdir(), 'bankgate real specs ')); // a space on purpose: paths must be passed safely
});
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** Generates one real spec into `<dir>/<bank>-<api>` and type-checks the result; returns its manifest. */
async function generateAndTypecheck(spec: string, bank: string, api: string): Promise<ApiManifest> {
  const out = join(dir, `${bank}-${api}`);
  const result = await runGenerate(['--spec', join(sharedSpecs, spec), '--bank', bank, '--api', api, '--out', out]);
  expect(errorLines(result)).toEqual([]);
  expect(result.code).toBe(0);
  const tsconfig = join(dir, `tsconfig.${bank}-${api}.json`);
  await writeFile(
    tsconfig,
    JSON.stringify({
      compilerOptions: {
        target: 'ES2022',
        lib: ['ES2023', 'DOM', 'DOM.Iterable'],
        module: 'ESNext',
        moduleResolution: 'Bundler',
        strict: true,
        noImplicitOverride: true,
        noFallthroughCasesInSwitch: true,
        isolatedModules: true,
        skipLibCheck: true,
        noEmit: true,
        types: [],
      },
      include: [`${bank}-${api}/**/*.ts`],
    }),
  );
  const tsc = await run(process.execPath, [join(repoRoot, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', tsconfig], { maxBuffer: 16 * 1024 * 1024 }).then(
    () => '',
    (error: { stdout?: string }) => error.stdout ?? String(error),
  );
  expect(tsc).toBe('');
  return ((await import(pathToFileURL(join(out, 'routes.ts')).href)) as { manifest: ApiManifest }).manifest;
}

function route(manifest: ApiManifest, operationId: string): RouteManifest {
  const found = manifest.routes.find((candidate) => candidate.operationId === operationId);
  if (!found) throw new Error(`no route ${operationId}`);
  return found;
}

describe('real bank specs', () => {
  it('Berlin Group 1.3.9 (OpenAPI 3.0.1 YAML, file name with spaces)', { timeout: TIMEOUT }, async () => {
    const manifest = await generateAndTypecheck('berlin-group/psd2-api 1.3.9 2021-05-04v1.yaml', 'berlingroup', 'psd2');
    expect(manifest.routes).toHaveLength(39);
    expect(manifest.servers).toEqual([]);
    // [{}, {BearerAuthOAuth: []}]: the empty requirement only makes auth optional; the bearer scheme wins.
    expect(route(manifest, 'getAccountList')).toMatchObject({ tokenKind: 'psu', scopes: [], securityScheme: 'BearerAuthOAuth' });
    const beneficiaries = manifest.routes.find((candidate) => candidate.path === '/v1/trusted-beneficiaries');
    expect(beneficiaries).toMatchObject({ tokenKind: 'none', scopes: [] });
    expect(beneficiaries?.params.header.map((h) => h.name.toLowerCase())).not.toContain('authorization');
    const initiate = route(manifest, 'initiatePayment');
    expect(initiate.params.path[0]).toMatchObject({ name: 'payment-service', required: true, enum: ['payments', 'bulk-payments', 'periodic-payments'] });
    expect(initiate.requestBody?.contentTypes).toEqual(expect.arrayContaining(['application/json', 'application/xml', 'multipart/form-data']));
  });

  it('STET AIS/PIS 1.5 (OpenAPI 3.0.1 JSON)', { timeout: TIMEOUT }, async () => {
    const manifest = await generateAndTypecheck('stet/stet-ais-pis-1.5.0.json', 'stet', 'psd2');
    expect(manifest.routes).toHaveLength(14);
    expect(route(manifest, 'accountsGet')).toMatchObject({ tokenKind: 'psu', scopes: ['aisp'], securityScheme: 'accessCode' });
    expect(route(manifest, 'paymentRequestsPost')).toMatchObject({ tokenKind: 'client', scopes: ['pisp'] });
    for (const each of manifest.routes) expect(each.params.header.map((h) => h.name)).not.toContain('Authorization');
  });

  it('KBC (Swagger 2.0 YAML, templated scope, unsecured consent creation)', { timeout: TIMEOUT }, async () => {
    const manifest = await generateAndTypecheck('other-banks/kbc/kbc-be-psd2-api.yaml', 'kbc', 'ais');
    expect(manifest.servers).toEqual(['https://openapi.kbc-group.com/psd2/v2']);
    const accounts = manifest.routes.find((candidate) => candidate.method === 'get' && candidate.path === '/accounts');
    expect(accounts).toMatchObject({ tokenKind: 'psu', scopes: ['AIS:<Consent-Id>'] });
    expect(manifest.routes.find((candidate) => candidate.method === 'post' && candidate.path === '/consents')).toMatchObject({ tokenKind: 'none', scopes: [] });
  });

  it('STET registration 1.0 (Swagger 2.0 JSON) fails on its two broken $refs, naming file and pointers', { timeout: TIMEOUT }, async () => {
    const out = join(dir, 'stet-registration');
    const result = await runGenerate(['--spec', join(sharedSpecs, 'stet/stet-registration-1.0.json'), '--bank', 'stet', '--api', 'registration', '--out', out]);
    expect(result.code).toBe(1);
    expect(result.stderr).not.toMatch(/^\s+at /m);
    const lines = errorLines(result);
    expect(lines).toHaveLength(2);
    const file = '../shared/specs/stet/stet-registration-1.0.json';
    expect(lines).toContainEqual(expect.stringMatching(new RegExp(`^error: ${escape(file)}: #/paths/\\S+: \\$ref #/parameters/RegistrationRecordparameter does not resolve \\[REF_UNRESOLVED\\]$`)));
    expect(lines).toContainEqual(expect.stringMatching(new RegExp(`^error: ${escape(file)}: #/\\S+: \\$ref #/definitions/RegistrationRequest does not resolve \\[REF_UNRESOLVED\\]$`)));
    expect(existsSync(out)).toBe(false);
  });
});

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
