import { describe, expect, it } from 'vitest';
import { documents, manifests } from '../../generated/index.js';
import type { ApiManifest } from '../manifest/types.js';
import { PATH_SEGMENT_SCHEMA } from './path-guard.js';
import { buildSurfaceDocument } from './surface-document.js';

type Json = Record<string, any>;

const pathParam = (document: Json, path: string, method: string, name: string): Json =>
  (document.paths[path][method].parameters as Json[]).find((p) => p.in === 'path' && p.name === name)!;

const route = (path: string) => ({
  operationId: 'get',
  method: 'get' as const,
  path,
  params: { path: [{ name: 'id', required: true, type: 'string' }], query: [], header: [] },
  scopes: [],
  tokenKind: 'none' as const,
});

const manifest = (path: string): ApiManifest => ({ bank: 'b', api: 'a', title: 'A', version: '1', servers: [], specSha256: '0', routes: [route(path)] as unknown as ApiManifest['routes'] });

const withSchema = (schema: Json): Json => ({
  openapi: '3.0.3',
  paths: { '/things/{id}': { get: { parameters: [{ name: 'id', in: 'path', required: true, schema }], responses: { 200: { description: 'ok' } } } } },
  components: { schemas: { Id: { type: 'string', description: 'an id' }, Alias: { $ref: '#/components/schemas/Id' }, Kind: { type: 'string', enum: ['a', 'b'] } } },
});

describe('path parameters in the surface document carry what the path guard lets through', () => {
  it('gives a bare string behind a $ref (Berlin Group ids) the guard’s constraints inline', () => {
    const surface = buildSurfaceDocument([{ bank: 'bg', api: 'xs2a', title: 'BG', manifest: manifests.bg.xs2a as unknown as ApiManifest, document: documents.bg.xs2a as Json }]);
    const account = pathParam(surface, '/bg/xs2a/v1/accounts/{account-id}/balances', 'get', 'account-id');
    expect(account.schema).toMatchObject({ type: 'string', minLength: 1, pattern: PATH_SEGMENT_SCHEMA.pattern, not: { enum: ['.', '..'] } });
    expect(account.schema.$ref).toBeUndefined();
    // An enum whose values all pass the guard is already exact.
    const service = pathParam(surface, '/bg/xs2a/v1/{payment-service}/{payment-product}', 'post', 'payment-service');
    expect(service.schema.enum).toContain('payments');
    expect(service.schema.pattern).toBeUndefined();
  });

  it('follows aliases, keeps enums that pass, and adds the guard beside any other schema', () => {
    const build = (schema: Json) => pathParam(buildSurfaceDocument([{ bank: 'b', api: 'a', title: 'A', manifest: manifest('/things/{id}'), document: withSchema(schema) }]), '/b/a/things/{id}', 'get', 'id').schema;
    expect(build({ $ref: '#/components/schemas/Alias' })).toMatchObject({ type: 'string', description: 'an id', pattern: PATH_SEGMENT_SCHEMA.pattern });
    expect(build({ $ref: '#/components/schemas/Kind' })).toEqual({ $ref: '#/components/schemas/BA_Kind' });
    expect(build({ type: 'string', enum: ['a', '..'] })).toEqual({ allOf: [{ type: 'string', enum: ['a', '..'] }, expect.objectContaining({ pattern: PATH_SEGMENT_SCHEMA.pattern })] });
    expect(build({ type: 'string', pattern: '^[0-9]+$' })).toEqual({ allOf: [{ type: 'string', pattern: '^[0-9]+$' }, expect.objectContaining({ minLength: 1 })] });
    expect(build({ type: 'string' })).toMatchObject({ type: 'string', minLength: 1, pattern: PATH_SEGMENT_SCHEMA.pattern });
  });
});

describe('headers the gateway sets', () => {
  it('leaves out Consent-ID (the gateway sets it from the connection) and asks for X-Connection-Id wherever it is required', () => {
    const surface = buildSurfaceDocument([{ bank: 'bg', api: 'xs2a', title: 'BG', manifest: manifests.bg.xs2a as unknown as ApiManifest, document: documents.bg.xs2a as Json }]) as Json;
    const parametersOf = (path: string) => (surface.paths[path].get.parameters as Json[]).map((p) => p.name ?? p.$ref);
    for (const path of ['/bg/xs2a/v1/accounts', '/bg/xs2a/v1/trusted-beneficiaries']) {
      expect(parametersOf(path)).not.toContain('Consent-ID');
      expect(parametersOf(path)).toContain('PSU-IP-Address');
      // trusted-beneficiaries declares no OAuth security; its Consent-ID still makes it act for a connection.
      expect(parametersOf(path)).toContain('#/components/parameters/ConnectionId');
    }
  });
});
