// The change report: before/after pairs made here, each change classified; then through the CLI, the report files and
// --fail-on-breaking exiting non-zero exactly when a breaking change exists.
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChangeReport } from '../../scripts/generate/change-report.js';
import { diffApis, type Change } from '../../scripts/generate/changes.js';
import { buildManifest } from '../../scripts/generate/manifest.js';
import { errorLines, runGenerate } from './cli.js';

type Doc = Record<string, unknown>;

/** A small bank API; `edit` changes a copy of it. */
function api(edit: (doc: any) => void = () => {}): Doc {
  const doc = {
    openapi: '3.0.3',
    info: { title: 'Bank', version: '1' },
    paths: {
      '/accounts': {
        get: {
          operationId: 'getAccounts',
          parameters: [{ name: 'withBalance', in: 'query', required: false, schema: { type: 'boolean' } }],
          security: [{ oauth: ['accounts'] }],
          responses: { '200': { description: 'ok', content: { 'application/json': { schema: { $ref: '#/components/schemas/AccountList' } } } } },
        },
      },
      '/payments/{product}': {
        post: {
          operationId: 'initiatePayment',
          parameters: [{ name: 'product', in: 'path', required: true, schema: { type: 'string', enum: ['sepa', 'instant', 'cross-border'] } }],
          security: [{ oauth: ['payments'] }],
          requestBody: { required: true, content: { 'application/json': { schema: { type: 'object', required: ['amount'], properties: { amount: { type: 'string' } } } } } },
          responses: { '201': { description: 'created' } },
        },
      },
    },
    components: {
      securitySchemes: { oauth: { type: 'oauth2', flows: { authorizationCode: { authorizationUrl: 'https://as/a', tokenUrl: 'https://as/t', scopes: {} } } } },
      schemas: {
        AccountList: { type: 'object', properties: { accounts: { type: 'array', items: { $ref: '#/components/schemas/Account' } } } },
        Account: { type: 'object', required: ['iban'], properties: { iban: { type: 'string' }, name: { type: 'string' }, status: { type: 'string', enum: ['enabled', 'blocked'] } } },
      },
    },
  };
  edit(doc);
  return doc;
}

function diff(before: Doc, after: Doc): Change[] {
  const generation = (doc: Doc) => ({ doc, manifest: buildManifest({ bank: 'b', api: 'a', doc, specSha256: 'x', derived: new Set() }) });
  return [...diffApis('b', 'a', generation(before), generation(after)).changes];
}

const brief = (changes: Change[]) => changes.map((c) => `${c.breaking ? 'BREAKING' : 'ok'} ${c.kind} ${c.operation}${c.location ? ` @ ${c.location}` : ''}`);

describe('change classification', () => {
  it('an identical spec has no changes', () => {
    expect(diff(api(), api())).toEqual([]);
  });

  it('removed operation: breaking', () => {
    expect(brief(diff(api(), api((d) => delete d.paths['/payments/{product}'])))).toEqual(['BREAKING operation-removed POST /payments/{product}']);
  });

  it('added operation: not breaking', () => {
    const after = api((d) => (d.paths['/cards'] = { get: { operationId: 'getCards', responses: { '200': { description: 'ok' } } } }));
    expect(brief(diff(api(), after))).toEqual(['ok operation-added GET /cards']);
  });

  it('new required query parameter: breaking; new optional one: not', () => {
    const required = api((d) => d.paths['/accounts'].get.parameters.push({ name: 'dateFrom', in: 'query', required: true, schema: { type: 'string' } }));
    expect(brief(diff(api(), required))).toEqual(['BREAKING parameter-added GET /accounts @ query parameter dateFrom']);
    const optional = api((d) => d.paths['/accounts'].get.parameters.push({ name: 'page', in: 'query', schema: { type: 'integer' } }));
    expect(brief(diff(api(), optional))).toEqual(['ok parameter-added GET /accounts @ query parameter page']);
  });

  it('enum value removed: breaking; added: not', () => {
    const narrowed = api((d) => (d.paths['/payments/{product}'].post.parameters[0].schema.enum = ['sepa', 'instant']));
    const changes = diff(api(), narrowed);
    expect(brief(changes)).toEqual(['BREAKING enum-value-removed POST /payments/{product} @ path parameter product']);
    expect(changes[0]!.message).toBe('path parameter product: enum value(s) "cross-border" removed');
    const widened = api((d) => d.components.schemas.Account.properties.status.enum.push('closed'));
    expect(brief(diff(api(), widened))).toEqual(['ok enum-value-added GET /accounts @ response 200 application/json: accounts[].status']);
    const responseNarrowed = api((d) => (d.components.schemas.Account.properties.status.enum = ['enabled']));
    expect(brief(diff(api(), responseNarrowed))).toEqual(['BREAKING enum-value-removed GET /accounts @ response 200 application/json: accounts[].status']);
  });

  it('response field removed: breaking, found through $ref and items', () => {
    const after = api((d) => delete d.components.schemas.Account.properties.name);
    const changes = diff(api(), after);
    expect(brief(changes)).toEqual(['BREAKING field-removed GET /accounts @ response 200 application/json: accounts[].name']);
    expect(changes[0]).toMatchObject({ operationId: 'getAccounts', message: 'response 200 application/json: accounts[].name removed' });
  });

  it('new optional field: not breaking, in a response or a request; a new required request field is', () => {
    const response = api((d) => (d.components.schemas.Account.properties.currency = { type: 'string' }));
    expect(brief(diff(api(), response))).toEqual(['ok field-added GET /accounts @ response 200 application/json: accounts[].currency']);
    const requestOptional = api((d) => (d.paths['/payments/{product}'].post.requestBody.content['application/json'].schema.properties.remittance = { type: 'string' }));
    expect(brief(diff(api(), requestOptional))).toEqual(['ok field-added POST /payments/{product} @ request body application/json: remittance']);
    const requestRequired = api((d) => {
      const schema = d.paths['/payments/{product}'].post.requestBody.content['application/json'].schema;
      schema.properties.creditor = { type: 'string' };
      schema.required.push('creditor');
    });
    expect(brief(diff(api(), requestRequired))).toEqual(['BREAKING field-added POST /payments/{product} @ request body application/json: creditor']);
  });

  it('narrowed type and changed auth or scopes: breaking', () => {
    const typed = api((d) => (d.components.schemas.Account.properties.iban = { type: 'integer' }));
    expect(brief(diff(api(), typed))).toEqual(['BREAKING type-changed GET /accounts @ response 200 application/json: accounts[].iban']);
    const scopes = api((d) => (d.paths['/accounts'].get.security = [{ oauth: ['accounts', 'extended'] }]));
    const changes = diff(api(), scopes);
    expect(brief(changes)).toEqual(['BREAKING security-changed GET /accounts @ security']);
    expect(changes[0]!.message).toBe('auth psu via oauth [accounts] → psu via oauth [accounts extended]');
  });
});

describe('the report and --fail-on-breaking through the CLI', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'bankgate-changes-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const TIMEOUT = 90_000;
  const generateFrom = async (doc: Doc) => {
    await writeFile(join(dir, 'bank.json'), JSON.stringify(doc));
    return runGenerate(['--spec', join(dir, 'bank.json'), '--bank', 'b', '--api', 'a', '--out', join(dir, 'out'), '--fail-on-breaking'], dir);
  };
  const report = async () => JSON.parse(await readFile(join(dir, 'out', 'changes.json'), 'utf8')) as ChangeReport;

  it('exits 0 with only compatible changes, 3 with a breaking one, and writes both report files', { timeout: TIMEOUT }, async () => {
    const first = await generateFrom(api());
    expect(errorLines(first)).toEqual([]);
    expect(first.code).toBe(0);
    expect((await report()).apis[0]).toMatchObject({ bank: 'b', api: 'a', status: 'added', breaking: 0 });

    const compatible = await generateFrom(api((d) => (d.components.schemas.Account.properties.currency = { type: 'string' })));
    expect(first.code).toBe(0);
    expect(compatible.code).toBe(0);
    expect(await report()).toMatchObject({ breaking: 0, nonBreaking: 1, apis: [{ status: 'changed', changes: [{ kind: 'field-added', breaking: false }] }] });

    const breaking = await generateFrom(api((d) => delete d.paths['/accounts']));
    expect(breaking.code).toBe(3);
    expect(errorLines(breaking)).toEqual(['error: b/a: GET /accounts (getAccounts): operation removed [BREAKING_CHANGE]']);
    const json = await report();
    expect(json).toMatchObject({ generator: 'bankgate', breaking: 1, nonBreaking: 0 });
    expect(json.apis[0]!.changes).toEqual([{ breaking: true, kind: 'operation-removed', operation: 'GET /accounts', operationId: 'getAccounts', message: 'operation removed' }]);
    const markdown = await readFile(join(dir, 'out', 'CHANGES.md'), 'utf8');
    expect(markdown).toContain('## b/a: changed (1 breaking)');
    expect(markdown).toContain('| **breaking** | `GET /accounts` (getAccounts) | operation removed |');
    // The output was still written: the report is there to be read.
    expect(existsSync(join(dir, 'out', 'routes.ts'))).toBe(true);
  });
});
