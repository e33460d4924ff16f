// An operation without operationId gets a stable camelCase name from method + path, a warning naming the file and
// pointer, and `operationIdDerived: true` in the manifest; the derived name is written into openapi.json too.
// The same run checks that unquoted YAML dates stay strings.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import type { ApiManifest } from '../../plugin/manifest/types.js';
import { deriveOperationId } from '../../scripts/generate/derive-operation-id.js';
import { runGenerate } from './cli.js';

const dirs: string[] = [];
afterAll(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

describe('deriveOperationId', () => {
  it('joins method and path words in camelCase', () => {
    expect(deriveOperationId('get', '/accounts/{account-id}/balances')).toBe('getAccountsAccountIdBalances');
    expect(deriveOperationId('POST', '/v1/{payment-service}/{payment-product}')).toBe('postV1PaymentServicePaymentProduct');
    expect(deriveOperationId('delete', '/payments/mock/resetall')).toBe('deletePaymentsMockResetall');
    expect(deriveOperationId('get', '/')).toBe('getRoot');
  });
});

describe('npm run generate with a missing operationId', () => {
  it('derives a name, warns on stderr and marks the route', { timeout: 120_000 }, async () => {
    const dir = await mkdtemp(join(tmpdir(), 'bankgate-derive-'));
    dirs.push(dir);
    const spec = join(dir, 'noid.yaml');
    await writeFile(
      spec,
      `swagger: "2.0"
info: { title: No ids, version: "1" }
host: bank.example
basePath: /v1
schemes: [https]
paths:
  /accounts/{account-id}/balances:
    get:
      parameters:
        - { name: account-id, in: path, required: true, type: string }
      responses:
        "200": { description: ok }
  /accounts:
    get:
      operationId: getAccounts
      responses:
        "200": { description: ok, schema: { $ref: "#/definitions/StandingOrder" } }
definitions:
  StandingOrder:
    type: object
    properties:
      startDate: { type: string, format: date }
    example:
      startDate: 2021-05-04
`,
    );
    const out = join(dir, 'out');
    const result = await runGenerate(['--spec', spec, '--bank', 'nid', '--api', 'ais', '--out', out], dir);
    expect(result.stderr).toContain('warning: noid.yaml: #/paths/~1accounts~1{account-id}~1balances/get: no operationId; using the derived name "getAccountsAccountIdBalances"');
    expect(result.code).toBe(0);

    const { manifest } = (await import(pathToFileURL(join(out, 'routes.ts')).href)) as { manifest: ApiManifest };
    expect(manifest.servers).toEqual(['https://bank.example/v1']);
    expect(manifest.routes.map((route) => [route.operationId, route.operationIdDerived])).toEqual([
      ['getAccountsAccountIdBalances', true],
      ['getAccounts', undefined],
    ]);
    const openapi = JSON.parse(await readFile(join(out, 'openapi.json'), 'utf8'));
    expect(openapi.paths['/accounts/{account-id}/balances'].get.operationId).toBe('getAccountsAccountIdBalances');
    // YAML 1.2 core schema: an unquoted date in an example stays the string the bank wrote (KBC's quirk).
    expect(openapi.components.schemas.StandingOrder.example).toEqual({ startDate: '2021-05-04' });
    // The SDK is generated from the normalised document, so it has the derived method.
    expect(await readFile(join(out, 'client', 'apis', 'DefaultApi.ts'), 'utf8')).toContain('async getAccountsAccountIdBalances(');
  });
});
