/**
 * The one bank of the benchmarks: a single declared operation, `GET /accounts`, that needs a PSU token.
 * The manifest is written by hand (typed, so a manifest change that breaks it fails the typecheck) and the
 * OpenAPI document beside it turns spec validation on, as in production: bankgate runs its full pipeline.
 */
import type { ApiManifest } from '../../plugin/manifest/types.js';

export const BENCH_SCOPE = 'accounts';

export const benchManifest: ApiManifest = {
  bank: 'bench',
  api: 'api',
  title: 'Benchmark bank',
  version: '1.0.0',
  servers: ['https://127.0.0.1/'],
  specSha256: 'hand-written',
  routes: [
    {
      operationId: 'getAccounts',
      method: 'get',
      path: '/accounts',
      params: { path: [], query: [], header: [] },
      scopes: [BENCH_SCOPE],
      tokenKind: 'psu',
      securityScheme: 'oauth2',
    },
    {
      // Declared so that the links of `GET /accounts` name an operation: bankgate rewrites them (the bench's link cost).
      operationId: 'getBalances',
      method: 'get',
      path: '/accounts/{account-id}/balances',
      params: { path: [{ name: 'account-id', required: true }], query: [], header: [] },
      scopes: [BENCH_SCOPE],
      tokenKind: 'psu',
      securityScheme: 'oauth2',
    },
  ],
};

/** The normalised OpenAPI document of the same API (what `generated/<bank>/<api>/openapi.json` would hold). */
export const benchDocument: Record<string, unknown> = {
  openapi: '3.0.3',
  info: { title: benchManifest.title, version: benchManifest.version },
  servers: [{ url: 'https://127.0.0.1/' }],
  paths: {
    '/accounts': {
      get: {
        operationId: 'getAccounts',
        security: [{ oauth2: [BENCH_SCOPE] }],
        responses: { '200': { description: 'The accounts', content: { 'application/json': { schema: { type: 'object' } } } } },
      },
    },
    '/accounts/{account-id}/balances': {
      get: {
        operationId: 'getBalances',
        parameters: [{ name: 'account-id', in: 'path', required: true, schema: { type: 'string' } }],
        security: [{ oauth2: [BENCH_SCOPE] }],
        responses: { '200': { description: 'The balances', content: { 'application/json': { schema: { type: 'object' } } } } },
      },
    },
  },
  components: {
    securitySchemes: {
      oauth2: { type: 'oauth2', flows: { authorizationCode: { authorizationUrl: 'https://as.bench.invalid/authorize', tokenUrl: 'https://as.bench.invalid/token', scopes: { [BENCH_SCOPE]: 'accounts' } } } },
    },
  },
};
