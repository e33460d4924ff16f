// Overlays (OpenAPI Overlay 1.0) and the JSONPath subset their targets use, in process: selection, merge, append,
// remove, stale targets, and errors naming the overlay file and the action's pointer.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GenerateError, GenerateErrors } from '../../scripts/generate/errors.js';
import { queryJsonPath } from '../../scripts/generate/jsonpath.js';
import { applyOverlays, loadOverlay } from '../../scripts/generate/overlay.js';

const doc = {
  openapi: '3.0.3',
  servers: [{ url: 'https://localhost/v1' }],
  paths: {
    '/accounts': {
      get: {
        operationId: 'AccountsGET',
        parameters: [
          { name: 'Authorization', in: 'header', required: true },
          { name: 'X-Request-ID', in: 'header', required: true },
          { $ref: '#/components/parameters/Auth' },
        ],
      },
    },
    '/payments/{id}': { put: { operationId: 'paymentPut', parameters: [{ name: 'id', in: 'path' }] } },
  },
};

describe('JSONPath for overlay targets', () => {
  const values = (path: string) => queryJsonPath(doc, path).map((node) => node.value);

  it('selects by name, bracket, index, wildcard and descendant', () => {
    expect(values('$.servers[0].url')).toEqual(['https://localhost/v1']);
    expect(values("$.paths['/payments/{id}'].put.operationId")).toEqual(['paymentPut']);
    expect(values('$.paths.*.*.operationId')).toEqual(['AccountsGET', 'paymentPut']);
    expect(values('$..operationId')).toEqual(['AccountsGET', 'paymentPut']);
    expect(values('$.servers[-1].url')).toEqual(['https://localhost/v1']);
    expect(values("$.paths['/accounts','/nope'].get.operationId")).toEqual(['AccountsGET']);
  });

  it('filters with comparisons, && || !, existence and quoted $ref keys', () => {
    expect(values("$.paths.*.*.parameters[?(@.name == 'Authorization')].in")).toEqual(['header']);
    expect(values("$.paths.*.*.parameters[?@.in == 'header' && @.required == true].name")).toEqual(['Authorization', 'X-Request-ID']);
    expect(values("$..parameters[?@['$ref'] == '#/components/parameters/Auth']")).toEqual([{ $ref: '#/components/parameters/Auth' }]);
    expect(values('$.paths.*.*.parameters[?(!@.name)]')).toHaveLength(1);
    expect(values("$.paths.*.*.parameters[?@.name == 'id' || @.name == 'X-Request-ID'].name")).toEqual(['X-Request-ID', 'id']);
  });

  it('rejects what it does not implement, with the column', () => {
    expect(() => queryJsonPath(doc, '$.servers[0:1]')).toThrow(/slices are not supported in overlay targets at column 12/);
    expect(() => queryJsonPath(doc, '$.paths[?length(@) > 1]')).toThrow(/filter functions/);
    expect(() => queryJsonPath(doc, 'paths')).toThrow(/expected "\$" at column 1/);
    expect(() => queryJsonPath(doc, "$['unterminated")).toThrow(/unterminated string/);
  });
});

describe('overlays', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'bankgate-overlay-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  async function overlay(name: string, text: string) {
    const path = join(dir, name);
    await writeFile(path, text);
    return loadOverlay(path, name);
  }

  it('merges, appends and removes in order, on a copy of the bank document', async () => {
    const fixes = await overlay(
      'fix.overlay.yaml',
      `overlay: 1.0.0
info: { title: fixes, version: '1' }
actions:
  - target: $.paths.*.*.parameters[?(@.name == 'Authorization')]
    remove: true
  - target: $.paths['/accounts'].get
    update: { operationId: getAccounts, x-fixed: { by: overlay } }
  - target: $
    update:
      servers: [{ url: 'https://api.bank.example/v1' }]
  - target: $.paths['/accounts'].get.parameters
    update: { name: PSU-IP-Address, in: header, required: false }
`,
    );
    const warnings: string[] = [];
    const result = applyOverlays(doc, [fixes], (line) => warnings.push(line));
    const get = (result['paths'] as Record<string, Record<string, Record<string, unknown>>>)['/accounts']!['get']!;
    expect(get['operationId']).toBe('getAccounts');
    expect(get['x-fixed']).toEqual({ by: 'overlay' });
    expect((get['parameters'] as { name?: string }[]).map((p) => p.name)).toEqual(['X-Request-ID', undefined, 'PSU-IP-Address']);
    expect(result['servers']).toEqual([{ url: 'https://api.bank.example/v1' }]); // arrays inside an update replace
    expect(warnings).toEqual([]);
    // The bank's document is untouched.
    expect(doc.paths['/accounts'].get.operationId).toBe('AccountsGET');
    expect(doc.paths['/accounts'].get.parameters).toHaveLength(3);
  });

  it('warns about a target that selects nothing (a stale overlay), naming file and action', async () => {
    const stale = await overlay('stale.overlay.yaml', `overlay: 1.0.0\ninfo: { title: t, version: '1' }\nactions:\n  - target: $.paths['/gone'].get\n    update: { operationId: x }\n`);
    const warnings: string[] = [];
    applyOverlays(doc, [stale], (line) => warnings.push(line));
    expect(warnings).toEqual([`warning: stale.overlay.yaml: #/actions/0: target $.paths['/gone'].get selects nothing; the overlay may be stale`]);
  });

  it('reports every invalid action with file, pointer and reason', async () => {
    const error = await overlay(
      'bad.overlay.yaml',
      `overlay: 2.0.0\nactions:\n  - target: $.a[\n    remove: true\n  - target: $.b\n  - update: {}\n  - target: $.c\n    remove: true\n    update: {}\n`,
    ).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(GenerateErrors);
    expect((error as GenerateErrors).problems.map((p) => p.format())).toEqual([
      'bad.overlay.yaml: #/overlay: not an Overlay 1.0 document: expected overlay: 1.0.0 [OVERLAY_INVALID]',
      expect.stringMatching(/^bad\.overlay\.yaml: #\/actions\/0\/target: invalid JSONPath: .* at column 5 of \$\.a\[ \[OVERLAY_INVALID\]$/),
      'bad.overlay.yaml: #/actions/1: an action needs update or remove: true [OVERLAY_INVALID]',
      'bad.overlay.yaml: #/actions/2/target: missing JSONPath target [OVERLAY_INVALID]',
      'bad.overlay.yaml: #/actions/3: an action cannot both update and remove [OVERLAY_INVALID]',
    ]);
  });

  it('refuses to merge into a scalar, naming the action', async () => {
    const scalar = await overlay('scalar.overlay.yaml', `overlay: 1.0.0\ninfo: { title: t, version: '1' }\nactions:\n  - target: $.openapi\n    update: { x: 1 }\n`);
    const error = (() => {
      try {
        applyOverlays(doc, [scalar], () => {});
      } catch (e) {
        return e as GenerateError;
      }
    })();
    expect(error?.format()).toMatch(/^scalar\.overlay\.yaml: #\/actions\/0\/update: target \$\.openapi selects a string; .* \[OVERLAY_INVALID\]$/);
  });
});
