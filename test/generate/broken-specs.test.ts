// Broken specs fail before anything is written: one line per problem naming the file and where, exit code 1,
// and the output directory (one-off --out, or generated/ under --root) left byte-for-byte as it was.
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errorLines, runGenerate, snapshot } from './cli.js';

const TIMEOUT = 60_000;
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'bankgate-broken-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const okOperation = `      responses:
        '200': { description: ok }`;

/** Writes `name` into the temp dir and an existing out dir beside it; returns both paths. */
async function scenario(name: string, text: string): Promise<{ spec: string; out: string }> {
  const spec = join(dir, name);
  const out = join(dir, `${name}.out`);
  await writeFile(spec, text);
  await mkdir(join(out, 'client'), { recursive: true });
  await writeFile(join(out, 'routes.ts'), '// the previous, good generation\n');
  await writeFile(join(out, 'client', 'index.ts'), 'export {};\n');
  return { spec, out };
}

async function expectFailure(name: string, text: string): Promise<string[]> {
  const { spec, out } = await scenario(name, text);
  const before = await snapshot(out);
  const result = await runGenerate(['--spec', spec, '--bank', 'x', '--api', 'y', '--out', out], dir);
  expect(result.code).toBe(1);
  expect(result.stderr).not.toMatch(/^\s+at /m); // no stack trace
  expect(await snapshot(out)).toEqual(before);
  const lines = errorLines(result);
  expect(lines.length).toBeGreaterThan(0);
  for (const line of lines) expect(line).toContain(name);
  return lines;
}

describe('broken specs', () => {
  it('names the file, the $ref site and the missing target of an unresolved $ref (Swagger 2.0)', { timeout: TIMEOUT }, async () => {
    const lines = await expectFailure(
      'unresolved.yaml',
      `swagger: '2.0'
info: { title: t, version: '1' }
paths:
  /a:
    get:
      operationId: getA
      parameters:
        - $ref: '#/parameters/Foo'
      responses:
        '200': { description: ok, schema: { $ref: '#/definitions/Missing' } }
parameters:
  Bar: { name: Bar, in: query, type: string }
`,
    );
    expect(lines).toContain('error: unresolved.yaml: #/paths/~1a/get/parameters/0: $ref #/parameters/Foo does not resolve [REF_UNRESOLVED]');
    expect(lines).toContain('error: unresolved.yaml: #/paths/~1a/get/responses/200/schema: $ref #/definitions/Missing does not resolve [REF_UNRESOLVED]');
  });

  it('names both pointers of a duplicate operationId', { timeout: TIMEOUT }, async () => {
    const lines = await expectFailure(
      'duplicate.yaml',
      `openapi: 3.0.3
info: { title: t, version: '1' }
paths:
  /a:
    get:
      operationId: same
${okOperation}
  /b:
    post:
      operationId: same
${okOperation}
`,
    );
    expect(lines).toEqual(['error: duplicate.yaml: #/paths/~1b/post/operationId: duplicate operationId "same", also at #/paths/~1a/get [OPERATION_ID_DUPLICATE]']);
  });

  it('gives line and column of invalid YAML', { timeout: TIMEOUT }, async () => {
    const lines = await expectFailure('invalid.yaml', `openapi: 3.0.3\ninfo:\n  title: t\n  version: '1'\n bad: x\npaths: {}\n`);
    expect(lines[0]).toBe('error: invalid.yaml: 5:1: invalid YAML: All mapping items must start at the same column [SPEC_PARSE]');
    // A duplicate key would silently drop an operation: it is a parse error too.
    const duplicate = await expectFailure('dupkey.yaml', `openapi: 3.0.3\ninfo:\n  title: t\n  title: u\n  version: '1'\npaths: {}\n`);
    expect(duplicate).toEqual(['error: dupkey.yaml: 4:3: invalid YAML: Map keys must be unique [SPEC_PARSE]']);
  });

  it('gives line and column of invalid JSON', { timeout: TIMEOUT }, async () => {
    const lines = await expectFailure('invalid.json', '{\n  "openapi": "3.0.3",\n  "paths": {},\n}\n');
    expect(lines).toEqual([expect.stringMatching(/^error: invalid\.json: 4:1: invalid JSON: .+ \[SPEC_PARSE\]$/)]);
  });

  it('rejects a document with no version and one with an unsupported version', { timeout: TIMEOUT }, async () => {
    expect(await expectFailure('noversion.yaml', `info: { title: t, version: '1' }\npaths: {}\n`)).toEqual([
      expect.stringMatching(/^error: noversion\.yaml: #: no "openapi" or "swagger" version field.* \[SPEC_VERSION\]$/),
    ]);
    expect(await expectFailure('v4.yaml', `openapi: 4.0.0\ninfo: { title: t, version: '1' }\npaths: {}\n`)).toEqual([
      expect.stringMatching(/^error: v4\.yaml: #\/openapi: unsupported openapi version "4\.0\.0".* \[SPEC_VERSION\]$/),
    ]);
  });

  it('leaves an existing generated/ untouched when one spec of the project is broken', { timeout: TIMEOUT }, async () => {
    const root = join(dir, 'project');
    await mkdir(join(root, 'openapi', 'good'), { recursive: true });
    await mkdir(join(root, 'openapi', 'bad'), { recursive: true });
    await mkdir(join(root, 'generated', 'good', 'api'), { recursive: true });
    await writeFile(join(root, 'generated', 'index.ts'), 'export const manifests = {} as const;\n');
    await writeFile(join(root, 'generated', 'good', 'api', 'routes.ts'), '// previous\n');
    await writeFile(join(root, 'openapi', 'good', 'api.yaml'), `openapi: 3.0.3\ninfo: { title: t, version: '1' }\npaths:\n  /a:\n    get:\n      operationId: getA\n${okOperation}\n`);
    await writeFile(join(root, 'openapi', 'bad', 'api.yaml'), `openapi: 3.0.3\ninfo: { title: t, version: '1' }\npaths:\n  /a:\n    get:\n      operationId: getA\n      parameters: [{ $ref: '#/components/parameters/Nope' }]\n${okOperation}\n`);
    const before = await snapshot(join(root, 'generated'));
    const result = await runGenerate(['--root', root], root);
    expect(result.code).toBe(1);
    expect(errorLines(result)).toEqual([
      'error: openapi/bad/api.yaml: #/paths/~1a/get/parameters/0: $ref #/components/parameters/Nope does not resolve [REF_UNRESOLVED]',
    ]);
    expect(result.stderr).toContain('generated/ left unchanged');
    expect(await snapshot(join(root, 'generated'))).toEqual(before);
  });

  it('rejects bad invocations with exit code 2', { timeout: TIMEOUT }, async () => {
    const result = await runGenerate(['--spec', 'x.yaml', '--bank', 'x']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('[USAGE]');
  });

  it('refuses an overlay without its spec, and --overlay without --spec', { timeout: TIMEOUT }, async () => {
    const root = join(dir, 'orphan-overlay');
    await mkdir(join(root, 'openapi', 'bank'), { recursive: true });
    await writeFile(join(root, 'openapi', 'bank', 'ais.overlay.yaml'), 'overlay: 1.0.0\nactions: []\n');
    const orphan = await runGenerate(['--root', root], root);
    expect(orphan.code).toBe(1);
    expect(errorLines(orphan)).toEqual(['error: openapi/bank/ais.overlay.yaml: an overlay without a spec (expected openapi/bank/ais.yaml, .yml, .json or .source.yaml) [USAGE]']);
    const flag = await runGenerate(['--overlay', 'x.overlay.yaml']);
    expect(flag.code).toBe(2);
    expect(flag.stderr).toContain('--overlay goes with --spec');
  });
});
