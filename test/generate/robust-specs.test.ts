// Robust by construction: inputs that trip generators either work or fail with file, pointer and reason, never a
// stack trace. The working ones (unknown formats, YAML 1.1 surprises, CRLF, $ref with siblings) are generated together
// in one temp project; the failing ones stop before the SDK generator runs. A ~20 MB spec is made here, not committed.
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiManifest } from '../../plugin/manifest/types.js';
import { errorLines, runGenerate, type CliResult } from './cli.js';

let dir: string;
let project: CliResult;

const SPECS: Record<string, string> = {
  // Formats no generator knows are kept as plain strings, not refused.
  'formats/api.yaml': `openapi: 3.0.3
info: { title: formats, version: '1' }
paths:
  /accounts:
    get:
      operationId: getAccounts
      responses:
        '200':
          description: ok
          content:
            application/json:
              schema:
                type: object
                properties:
                  iban: { type: string, format: iban }
                  bic: { type: string, format: x-swift-bic-2022 }
                  amount: { type: string, format: decimal }
                  count: { type: integer, format: uint128 }
`,
  // YAML 1.1 would turn these into a Date, booleans and a float; the YAML 1.2 core schema keeps what the bank wrote.
  'yaml11/api.yaml': `swagger: 2.0
info: { title: yaml11, version: 1.10 }
host: api.bank.example
basePath: /v1
schemes: [https]
paths:
  /orders:
    get:
      operationId: getOrders
      parameters:
        - { name: answer, in: query, type: string, enum: [yes, no, on, off] }
      responses:
        '200':
          description: ok
          schema:
            type: object
            properties:
              startDate: { type: string, format: date, example: 2021-05-04 }
`,
  // CRLF line endings throughout, a block scalar included.
  'crlf/api.yaml': `openapi: 3.0.3
info:
  title: crlf
  version: '1'
  description: |
    first line
    second line
paths:
  /a:
    get:
      operationId: getA
      responses:
        '200': { description: ok }
`.replace(/\n/g, '\r\n'),
  // OpenAPI 3.0 ignores keys beside $ref; they are dropped, with a warning naming each one.
  'refsib/api.yaml': `openapi: 3.0.3
info: { title: refsib, version: '1' }
paths:
  /a:
    get:
      operationId: getA
      responses:
        '200':
          description: ok
          content:
            application/json:
              schema: { $ref: '#/components/schemas/A', nullable: true, description: an A }
components:
  schemas:
    A: { type: object, properties: { id: { type: string } } }
`,
};

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'bankgate-robust-'));
  for (const [path, text] of Object.entries(SPECS)) {
    await mkdir(join(dir, 'project', 'openapi', path.split('/')[0]!), { recursive: true });
    await writeFile(join(dir, 'project', 'openapi', path), text);
  }
  project = await runGenerate(['--root', join(dir, 'project')], join(dir, 'project'));
}, 120_000);
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const generated = (path: string) => readFile(join(dir, 'project', 'generated', path), 'utf8');
const manifestOf = async (bank: string) => ((await import(pathToFileURL(join(dir, 'project', 'generated', bank, 'api', 'routes.ts')).href)) as { manifest: ApiManifest }).manifest;

describe('specs that work despite their surprises', () => {
  it('all generate in one run', () => {
    expect(errorLines(project)).toEqual([]);
    expect(project.code).toBe(0);
  });

  it('unknown formats stay strings and numbers', async () => {
    const schema = await generated('formats/api/schema.ts');
    expect(schema).toMatch(/iban\?: string;/);
    expect(schema).toMatch(/bic\?: string;/);
    expect(schema).toMatch(/count\?: number;/);
  });

  it('YAML 1.1 surprises: unquoted dates, yes/no/on/off and 1.10 stay as written', async () => {
    const doc = JSON.parse(await generated('yaml11/api/openapi.json')) as any;
    // No `produces`: the converted response is `*/*`; whichever media type, the date is still the string written.
    const [media] = Object.values(doc.paths['/orders'].get.responses['200'].content) as any[];
    expect(media.schema.properties.startDate.example).toBe('2021-05-04');
    expect((await manifestOf('yaml11')).routes[0]!.params.query[0]).toEqual({ name: 'answer', required: false, type: 'string', enum: ['yes', 'no', 'on', 'off'] });
    // Unquoted 1.10 is the number 1.1 to any YAML parser; what survives is its number form, as a string.
    expect((await manifestOf('yaml11')).version).toBe('1.1');
  });

  it('CRLF line endings leave no carriage return in the output', async () => {
    const text = await generated('crlf/api/openapi.json');
    expect(text).not.toContain('\\r');
    expect(JSON.parse(text).info.description).toBe('first line\nsecond line\n');
  });

  it('$ref with sibling keys: siblings dropped, each reported with file and pointer', async () => {
    expect(project.stderr).toContain(
      'warning: openapi/refsib/api.yaml: #/paths/~1a/get/responses/200/content/application~1json/schema: nullable, description beside $ref ignored (OpenAPI 3.0 ignores siblings of $ref)',
    );
    const doc = JSON.parse(await generated('refsib/api/openapi.json')) as any;
    expect(doc.paths['/a'].get.responses['200'].content['application/json'].schema).toEqual({ $ref: '#/components/schemas/A' });
  });
});

describe('specs that fail, with file, pointer and reason', () => {
  async function oneOff(name: string, text: string | Buffer): Promise<CliResult> {
    await writeFile(join(dir, name), text);
    const result = await runGenerate(['--spec', join(dir, name), '--bank', 'x', '--api', 'y', '--out', join(dir, `${name}.out`)], dir);
    expect(result.stderr).not.toMatch(/^\s+at /m);
    return result;
  }

  it('an empty file, YAML or JSON', { timeout: 30_000 }, async () => {
    for (const [name, text] of [['empty.yaml', ''], ['blank.json', '  \n\r\n']] as const) {
      const result = await oneOff(name, text);
      expect(result.code).toBe(1);
      expect(errorLines(result)).toEqual([`error: ${name}: #: the file is empty (expected an OpenAPI or Swagger document) [SPEC_SHAPE]`]);
    }
  });

  it('unknown file formats: a Postman collection, plain text, binary', { timeout: 30_000 }, async () => {
    const postman = await oneOff('collection.json', JSON.stringify({ info: { name: 'SEB', schema: 'https://schema.getpostman.com/json/collection/v2.1.0/collection.json' }, item: [] }));
    expect(errorLines(postman)).toEqual([expect.stringMatching(/^error: collection\.json: #: no "openapi" or "swagger" version field: not an OpenAPI document\? .*\[SPEC_VERSION\]$/)]);
    const text = await oneOff('notes.yaml', 'just some notes\n');
    expect(errorLines(text)).toEqual(['error: notes.yaml: #: the document is not an object (expected an OpenAPI or Swagger document) [SPEC_SHAPE]']);
    const binary = await oneOff('image.yaml', Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x3a, 0x7b]));
    expect(binary.code).toBe(1);
    expect(errorLines(binary)).toEqual(['error: image.yaml: 3:1: a binary file (NUL byte), not YAML or JSON text [SPEC_PARSE]']);
  });

  it('a ~20 MB spec with a broken $ref at its end: the exact pointer, quickly', { timeout: 60_000 }, async () => {
    const result = await oneOff('huge-broken.yaml', hugeSpec(200, '#/components/schemas/Missing', true));
    expect((await stat(join(dir, 'huge-broken.yaml'))).size).toBeGreaterThan(20_000_000);
    expect(errorLines(result)).toEqual([
      'error: huge-broken.yaml: #/paths/~1things199~1{id}/get/responses/200/content/application~1json/schema: $ref #/components/schemas/Missing does not resolve [REF_UNRESOLVED]',
    ]);
  });
});

describe('a ~20 MB spec', () => {
  it('generates (types, SDK, routes)', { timeout: 180_000 }, async () => {
    await writeFile(join(dir, 'huge.yaml'), hugeSpec(200, '#/components/schemas/Thing'));
    const result = await runGenerate(['--spec', join(dir, 'huge.yaml'), '--bank', 'huge', '--api', 'api', '--out', join(dir, 'huge.out')], dir);
    expect(errorLines(result)).toEqual([]);
    expect(result.code).toBe(0);
    expect(existsSync(join(dir, 'huge.out', 'client', 'runtime.ts'))).toBe(true);
    const manifest = ((await import(pathToFileURL(join(dir, 'huge.out', 'routes.ts')).href)) as { manifest: ApiManifest }).manifest;
    expect(manifest.routes).toHaveLength(200);
  });
});

/** `operations` operations, each with a 100 KB description, answering with `ref` (only the last one when `lastOnly`): ~20 MB of YAML. */
function hugeSpec(operations: number, ref: string, lastOnly = false): string {
  const line = `        ${'x'.repeat(1000)}\n`;
  const parts = [`openapi: 3.0.3\ninfo: { title: huge, version: '1' }\npaths:\n`];
  for (let i = 0; i < operations; i++) {
    parts.push(`  /things${i}/{id}:\n    get:\n      operationId: getThing${i}\n      parameters: [{ name: id, in: path, required: true, schema: { type: string } }]\n      description: |\n`);
    parts.push(line.repeat(100));
    parts.push(`      responses:\n        '200': { description: ok, content: { application/json: { schema: { $ref: '${lastOnly && i < operations - 1 ? '#/components/schemas/Thing' : ref}' } } } }\n`);
  }
  parts.push(`components:\n  schemas:\n    Thing: { type: object, properties: { id: { type: string } } }\n`);
  return parts.join('');
}
