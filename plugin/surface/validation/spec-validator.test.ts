import { describe, expect, it } from 'vitest';
import { documents, manifests } from '../../../generated/index.js';
import type { ResolvedBank } from '../../config/resolve-config.js';
import type { ApiManifest } from '../../manifest/types.js';
import { BankgateError } from '../../errors/bankgate-error.js';
import { silentLogger } from '../../log.js';
import { MetricsRegistry } from '../../observability/metrics.js';
import { RouteTable, type RouteMatch } from '../route-table.js';
import { ajvCompiler, createSpecValidator, precompiledCompiler, type SchemaCompiler, type Violation } from './spec-validator.js';

const bank = (name: string, apis: Record<string, { manifest: ApiManifest }>) =>
  ({ name, apis: new Map(Object.entries(apis).map(([api, { manifest }]) => [api, { name: api, manifest, baseUrl: new URL(manifest.servers[0]!) }])) }) as unknown as ResolvedBank;
const table = new RouteTable(new Map([['seb', bank('seb', { ais: { manifest: manifests.seb.ais }, pis: { manifest: manifests.seb.pis } })], ['sg', bank('sg', { pisp: { manifest: manifests.sg.pisp } })]]));
const docs = new Map<string, Record<string, unknown>>([
  ['seb/ais', documents.seb.ais as Record<string, unknown>],
  ['seb/pis', documents.seb.pis as Record<string, unknown>],
  ['sg/pisp', documents.sg.pisp as Record<string, unknown>],
]);
import sebAisValidators from '../../../generated/seb/ais/validators.js';
import sebPisValidators from '../../../generated/seb/pis/validators.js';
import sgPispValidators from '../../../generated/sg/pisp/validators.js';

const precompiled = new Map([['seb/ais', sebAisValidators.validators], ['sg/pisp', sgPispValidators.validators], ['seb/pis', sebPisValidators.validators]]);
/** Stands for a runtime that cannot compile (workerd): any schema not precompiled fails to compile, as there. */
const noCodeGeneration: SchemaCompiler = {
  compile() {
    throw new EvalError('Code generation from strings disallowed for this context');
  },
};

function match(method: string, path: string): RouteMatch {
  const found = table.match(method, path.split('/').filter(Boolean));
  if (!found || !('mounted' in found)) throw new Error(`no route ${method} ${path}`);
  return found;
}

function violationsOf(fn: () => void): Violation[] {
  try {
    fn();
  } catch (error) {
    if (error instanceof BankgateError && error.code === 'bad_request') return error.extra!.violations as Violation[];
    if (error instanceof BankgateError && error.code === 'bank_response_invalid') return error.extra!.violations as Violation[];
    throw error;
  }
  return [];
}

const request = (options: { query?: string; headers?: Record<string, string>; body?: unknown; contentType?: string }) => ({
  query: new URLSearchParams(options.query ?? ''),
  header: (name: string) => Object.entries(options.headers ?? {}).find(([k]) => k.toLowerCase() === name.toLowerCase())?.[1],
  body: options.body === undefined ? undefined : new TextEncoder().encode(typeof options.body === 'string' ? options.body : JSON.stringify(options.body)),
  contentType: options.contentType ?? (options.body === undefined ? undefined : 'application/json'),
});

const psu = { 'PSU-IP-Address': '203.0.113.7' };
const payment = { instructedAmount: { currency: 'SEK', amount: '100.00' }, debtorAccount: { iban: 'SE1' }, creditorAccount: { iban: 'SE2' }, creditorName: 'ACME' };

describe.each([
  ['Ajv at run time', () => undefined],
  ['only the precompiled validators (generated/<bank>/<api>/validators.js), as on workerd', () => precompiledCompiler(precompiled, noCodeGeneration)],
])('createSpecValidator against the generated documents, %s', (_, compiler) => {
  const metrics = new MetricsRegistry();
  const validator = createSpecValidator({ documents: docs, responses: 'enforce', log: silentLogger, metrics, ...(compiler() ? { compiler: compiler()! } : {}) });

  it('compiles every schema of the operations (none unusable)', () => {
    for (const route of ['GET /seb/ais/accounts', 'GET /seb/ais/accounts/acc-1/transactions', 'POST /seb/pis/payments/sepa-credit-transfers', 'POST /sg/pisp/payment-requests']) {
      const [method, path] = route.split(' ') as [string, string];
      expect(validator.coverage(match(method, path)), route).toEqual([]);
    }
  });

  it('accepts a request that matches the spec', () => {
    expect(violationsOf(() => validator.checkRequest(match('GET', '/seb/ais/accounts'), request({ query: 'withBalance=true', headers: psu })))).toEqual([]);
    expect(violationsOf(() => validator.checkRequest(match('POST', '/seb/pis/payments/sepa-credit-transfers'), request({ headers: psu, body: payment })))).toEqual([]);
  });

  it('lists each violation with its location', () => {
    const v = violationsOf(() => validator.checkRequest(match('GET', '/seb/ais/accounts/acc-1/transactions'), request({ query: 'bookingStatus=all&dateFrom=yesterday&extra=1' })));
    expect(v).toEqual(
      expect.arrayContaining([
        { in: 'query', at: 'query.extra', message: 'is not a parameter of getTransactionList' },
        { in: 'query', at: 'query.bookingStatus', message: 'must be one of booked, pending, both' },
        expect.objectContaining({ in: 'query', at: 'query.dateFrom' }),
        { in: 'header', at: 'header.PSU-IP-Address', message: 'is required' },
      ]),
    );
  });

  it('checks types of parameters and JSON bodies', () => {
    expect(violationsOf(() => validator.checkRequest(match('GET', '/seb/ais/accounts'), request({ query: 'withBalance=maybe', headers: psu })))).toEqual([expect.objectContaining({ at: 'query.withBalance', message: 'must be boolean' })]);
    const bad = violationsOf(() => validator.checkRequest(match('POST', '/seb/pis/payments/sepa-credit-transfers'), request({ headers: psu, body: { ...payment, creditorName: undefined, instructedAmount: { currency: 'SEK', amount: 'ten' } } })));
    expect(bad).toEqual(expect.arrayContaining([{ in: 'body', at: 'body/creditorName', message: 'is required' }, expect.objectContaining({ at: 'body/instructedAmount/amount' })]));
    expect(violationsOf(() => validator.checkRequest(match('POST', '/seb/pis/payments/sepa-credit-transfers'), request({ headers: psu, body: '{nope' })))).toEqual([{ in: 'body', at: 'body', message: 'is not valid JSON' }]);
    expect(violationsOf(() => validator.checkRequest(match('POST', '/seb/pis/payments/sepa-credit-transfers'), request({ headers: psu })))).toEqual([expect.objectContaining({ at: 'body', message: expect.stringContaining('is required') })]);
    expect(violationsOf(() => validator.checkRequest(match('POST', '/seb/pis/payments/sepa-credit-transfers'), request({ headers: psu, body: payment, contentType: 'text/plain' })))).toEqual([expect.objectContaining({ at: 'header.Content-Type' })]);
  });

  it('never asks the caller for headers the gateway owns (Authorization, X-Request-ID, Signature, TPP-*)', () => {
    const violations = violationsOf(() => validator.checkRequest(match('POST', '/sg/pisp/payment-requests'), request({ body: { bad: true } })));
    expect(violations.length).toBeGreaterThan(0);
    expect(violations.filter((v) => /authorization|signature|x-request-id/i.test(v.at))).toEqual([]);
  });

  it('enforces response schemas when asked, and counts violations', () => {
    const response = (body: unknown) => ({ status: 200, headers: { 'content-type': 'application/json' }, body: new TextEncoder().encode(JSON.stringify(body)) });
    expect(violationsOf(() => validator.checkResponse(match('GET', '/seb/ais/accounts'), response({ accounts: [] })))).toEqual([]);
    const v = violationsOf(() => validator.checkResponse(match('GET', '/seb/ais/accounts'), response({ accounts: [{ currency: 'SEK' }] })));
    expect(v).toEqual(expect.arrayContaining([{ in: 'response', at: 'response/accounts/0/resourceId', message: 'is required' }]));
    expect(metrics.value('bankgate_response_violations_total', { bank: 'seb', api: 'ais', operation: 'getAccountList' })).toBe(1);
    // A bank that answers garbage under a JSON media type is refused, not passed on.
    const garbage = { status: 200, headers: { 'content-type': 'application/json' }, body: new TextEncoder().encode('<html>maintenance</html>') };
    expect(violationsOf(() => validator.checkResponse(match('GET', '/seb/ais/accounts'), garbage))).toEqual([{ in: 'response', at: 'response', message: 'is not valid JSON' }]);
  });
});

describe('precompiled validators (generated/<bank>/<api>/validators.js)', () => {
  // The sandbox banks' APIs (what the Worker mounts); UK OB's are generated the same way, and cost seconds to compile.
  const everyApi = Object.entries(manifests).filter(([bankName]) => bankName !== 'ukob').flatMap(([bankName, apis]) => Object.entries(apis).map(([api, manifest]) => ({ key: `${bankName}/${api}`, manifest: manifest as ApiManifest })));

  it('cover every schema that Ajv compiles at run time, for every API of the sandbox banks (bg, seb, sg)', async () => {
    for (const { key, manifest } of everyApi) {
      const [bankName, api] = key.split('/') as [string, string];
      const module = ((await import(/* @vite-ignore */ new URL(`../../../generated/${key}/validators.js`, import.meta.url).href)) as { default: { specSha256: string; validators: Record<string, never> } }).default;
      expect(module.specSha256, key).toBe(manifest.specSha256);
      const document = (documents as unknown as Record<string, Record<string, Record<string, unknown>>>)[bankName]![api]!;
      const one = new Map([[key, document]]);
      const atRunTime = createSpecValidator({ documents: one, responses: 'report', log: silentLogger, metrics: new MetricsRegistry(), compiler: ajvCompiler(one) });
      const aheadOfTime = createSpecValidator({ documents: one, responses: 'report', log: silentLogger, metrics: new MetricsRegistry(), compiler: precompiledCompiler(new Map([[key, module.validators]]), noCodeGeneration) });
      for (const route of manifest.routes) {
        const routeMatch = { mounted: { bank: { name: bankName }, api: { name: api }, route }, params: {} } as unknown as RouteMatch;
        expect(aheadOfTime.coverage(routeMatch), `${key} ${route.operationId}`).toEqual(atRunTime.coverage(routeMatch));
      }
    }
  });

  it('a runtime that cannot compile and has no precompiled validators says which module to pass', () => {
    const validator = createSpecValidator({ documents: docs, responses: 'enforce', log: silentLogger, metrics: new MetricsRegistry(), compiler: precompiledCompiler(new Map(), noCodeGeneration) });
    const coverage = validator.coverage(match('GET', '/seb/ais/accounts'));
    expect(coverage.length).toBeGreaterThan(0);
    expect(coverage[0]).toMatch(/this runtime cannot compile validators \(Code generation from strings disallowed for this context\): pass apis\.<api>\.validators: the default export of generated\/seb\/ais\/validators\.js/);
    // Unvalidated, and counted as such: never silently.
    expect(violationsOf(() => validator.checkRequest(match('GET', '/seb/ais/accounts'), request({ query: 'withBalance=maybe' })))).toEqual([]);
  });
});
