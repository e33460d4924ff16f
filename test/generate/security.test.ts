// Which security requirement the gateway meets for an operation, and what the manifest then says: pure functions over
// small documents written here (no generator run).
import { describe, expect, it } from 'vitest';
import { buildManifest } from '../../scripts/generate/manifest.js';
import { chooseSecurity, tokenExtension } from '../../scripts/generate/security.js';

const doc = {
  openapi: '3.1.0',
  components: {
    securitySchemes: {
      psu: { type: 'oauth2', flows: { authorizationCode: { authorizationUrl: 'https://as/a', tokenUrl: 'https://as/t', scopes: {} } } },
      tpp: { type: 'oauth2', flows: { clientCredentials: { tokenUrl: 'https://as/t', scopes: {} } } },
      bearer: { type: 'http', scheme: 'bearer' },
      key: { type: 'apiKey', in: 'header', name: 'X-Api-Key' },
      badKey: { type: 'apiKey', in: 'body', name: 'k' },
      mtls: { type: 'mutualTLS' },
      hoba: { type: 'http', scheme: 'HOBA' },
    },
  },
};

describe('chooseSecurity', () => {
  it('AND within a requirement: the token, the API key, and mutualTLS met by the bank\'s mTLS', () => {
    expect(chooseSecurity(doc, [{ mtls: [], tpp: ['payments'], key: [] }])).toEqual({ tokenKind: 'client', scopes: ['payments'], scheme: 'tpp', credentials: [{ scheme: 'key', type: 'apiKey', in: 'header', name: 'X-Api-Key' }] });
  });

  it('OR between requirements: the first one that can be met, an unmeetable one skipped', () => {
    expect(chooseSecurity(doc, [{ hoba: [] }, { psu: ['accounts'] }])).toMatchObject({ tokenKind: 'psu', scopes: ['accounts'], scheme: 'psu', credentials: [] });
    expect(chooseSecurity(doc, [{ key: [] }, { psu: [] }])).toMatchObject({ tokenKind: 'none', credentials: [{ scheme: 'key' }] });
  });

  it('an empty requirement only makes auth optional; with nothing else met the operation goes without', () => {
    expect(chooseSecurity(doc, [{}, { bearer: [] }])).toMatchObject({ tokenKind: 'psu', scheme: 'bearer' });
    expect(chooseSecurity(doc, [{}, { hoba: [] }])).toEqual({ tokenKind: 'none', scopes: [], credentials: [] });
  });

  it('what cannot be met is said, per requirement', () => {
    expect(chooseSecurity(doc, [{ hoba: [] }, { badKey: [] }, { psu: [], bearer: [] }]).unsupported).toBe(
      'no security requirement can be met: scheme "hoba" is http hoba, which bankgate cannot send (bearer and basic only); scheme "badKey" is an apiKey without a usable "in" (header, query, cookie) and "name"; "psu" and "bearer" both need the Authorization header',
    );
  });

  it('x-bankgate-token decides the token only where the spec names none', () => {
    expect(chooseSecurity(doc, [], { tokenKind: 'client', scopes: ['s'] })).toMatchObject({ tokenKind: 'client', scopes: ['s'] });
    expect(chooseSecurity(doc, [{ psu: [] }], { tokenKind: 'client', scopes: [] })).toMatchObject({ tokenKind: 'psu' });
    expect(tokenExtension('psu')).toEqual({ tokenKind: 'psu', scopes: [] });
    expect(tokenExtension({ kind: 'client', scopes: ['a'] })).toEqual({ tokenKind: 'client', scopes: ['a'] });
    expect(tokenExtension('oauth')).toEqual({ error: 'x-bankgate-token must be psu, client, none or { kind, scopes }' });
  });
});

describe('the manifest of an operation declaring Authorization without a scheme', () => {
  const spec = (extension?: unknown) => ({
    openapi: '3.0.3',
    info: { title: 't', version: '1' },
    ...(extension !== undefined ? { 'x-bankgate-token': extension } : {}),
    paths: { '/r': { get: { operationId: 'getR', parameters: [{ name: 'Authorization', in: 'header', required: true, schema: { type: 'string' } }], responses: { '200': { description: 'ok' } } } } },
  });

  it('is marked, so the gateway asks config for its token', () => {
    const [route] = buildManifest({ bank: 'b', api: 'a', doc: spec(), specSha256: '', derived: new Set() }).routes;
    expect(route).toMatchObject({ tokenKind: 'none', authorizationUndeclared: true });
    expect(route!.params.header).toEqual([]);
  });

  it('takes the token of an overlay\'s x-bankgate-token instead, and is then not marked', () => {
    const [route] = buildManifest({ bank: 'b', api: 'a', doc: spec({ kind: 'client', scopes: ['register'] }), specSha256: '', derived: new Set() }).routes;
    expect(route).toMatchObject({ tokenKind: 'client', scopes: ['register'] });
    expect(route!.authorizationUndeclared).toBeUndefined();
  });
});
