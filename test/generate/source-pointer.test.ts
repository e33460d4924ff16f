// `openapi/<bank>/<api>.source.yaml`: a spec kept outside the project (the real specs in ../shared), pinned by sha256.
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errorLines, runGenerate } from './cli.js';

const SPEC = `openapi: 3.0.3
info: { title: Outside, version: '1' }
servers: [{ url: 'https://bank.example/v1' }]
paths:
  /accounts:
    get:
      operationId: listAccounts
      responses: { '200': { description: ok, content: { application/json: { schema: { type: object } } } } }
`;

let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'bankgate-source-'));
  await mkdir(join(root, 'project', 'openapi', 'outside'), { recursive: true });
  await mkdir(join(root, 'corpus'), { recursive: true });
  await writeFile(join(root, 'corpus', 'bank spec.yaml'), SPEC);
});
afterAll(() => rm(root, { recursive: true, force: true }));

const pointer = (sha256: string, source = '../../../corpus/bank spec.yaml') =>
  writeFile(join(root, 'project', 'openapi', 'outside', 'ais.source.yaml'), `source: "${source}"\nsha256: ${sha256}\n`);
const sha256 = createHash('sha256').update(SPEC).digest('hex');

describe('a spec by reference', () => {
  it('generates from the file it points at, naming that file in the generated header', { timeout: 120_000 }, async () => {
    await pointer(sha256);
    const result = await runGenerate(['--root', join(root, 'project')], join(root, 'project'));
    expect(errorLines(result)).toEqual([]);
    expect(result.code).toBe(0);
    const routes = await readFile(join(root, 'project', 'generated', 'outside', 'ais', 'routes.ts'), 'utf8');
    expect(routes).toContain('from ../corpus/bank spec.yaml. Do not edit.');
    expect(routes).toContain('"operationId": "listAccounts"');
  });

  it('refuses a file whose bytes are not the pinned ones, and a missing one, saying what to do', { timeout: 60_000 }, async () => {
    await pointer('0'.repeat(64));
    const changed = await runGenerate(['--root', join(root, 'project')], join(root, 'project'));
    expect(changed.code).toBe(1);
    expect(errorLines(changed)).toEqual([
      `error: openapi/outside/ais.source.yaml: source ../../../corpus/bank spec.yaml has sha256 ${sha256}, not the pinned ${'0'.repeat(64)}; review the new file, then set sha256 to the new value [USAGE]`,
    ]);
    await pointer(sha256, '../../../corpus/gone.yaml');
    const missing = await runGenerate(['--root', join(root, 'project')], join(root, 'project'));
    expect(errorLines(missing)[0]).toMatch(/^error: openapi\/outside\/ais\.source\.yaml: source \.\.\/\.\.\/\.\.\/corpus\/gone\.yaml cannot be read \(ENOENT\); it resolves to .*corpus\/gone\.yaml/);
  });
});
