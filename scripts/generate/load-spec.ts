import { readFile, stat } from 'node:fs/promises';
import { extname } from 'node:path';
import { parseDocument } from 'yaml';
import { GenerateError, GenerateErrors } from './errors.js';

export type SpecDocument = Record<string, unknown>;

/** Far above any real bank spec (the largest known is ~0.6 MB); beyond it a file is a mistake, not a spec. */
export const MAX_SPEC_BYTES = 64 * 1024 * 1024;

/**
 * Reads and parses one spec file. JSON files go through `JSON.parse`; YAML through the YAML 1.2 core schema, so
 * unquoted dates (`2021-05-04`) stay strings and `yes`/`no` stay strings. Parse errors carry `line:column`.
 * `file` is the name used in messages.
 */
export async function loadSpec(path: string, file: string): Promise<SpecDocument> {
  let text: string;
  try {
    const { size } = await stat(path);
    if (size > MAX_SPEC_BYTES) {
      throw new GenerateError('SPEC_TOO_LARGE', `${(size / 1024 / 1024).toFixed(1)} MB is more than the ${MAX_SPEC_BYTES / 1024 / 1024} MB a spec may have`, { file, pointer: '#' });
    }
    text = await readFile(path, 'utf8');
  } catch (error) {
    if (error instanceof GenerateError) throw error;
    throw new GenerateError('SPEC_READ', `cannot read spec: ${(error as NodeJS.ErrnoException).code ?? String(error)}`, { file, cause: error });
  }
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  const nul = text.indexOf('\u0000');
  if (nul !== -1) throw new GenerateError('SPEC_PARSE', 'a binary file (NUL byte), not YAML or JSON text', { file, pointer: lineColumn(text, nul) });
  if (text.trim() === '') throw new GenerateError('SPEC_SHAPE', 'the file is empty (expected an OpenAPI or Swagger document)', { file, pointer: '#' });
  const doc = extname(path).toLowerCase() === '.json' ? parseJson(text, file) : parseYaml(text, file);
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) {
    throw new GenerateError('SPEC_SHAPE', 'the document is not an object (expected an OpenAPI or Swagger document)', { file, pointer: '#' });
  }
  return doc as SpecDocument;
}

function parseJson(text: string, file: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    const message = (error as Error).message;
    const position = /at position (\d+)/.exec(message);
    const at = position ? lineColumn(text, Number(position[1])) : undefined;
    const reason = message.replace(/\s*\(line \d+ column \d+\)/, '').replace(/ in JSON at position \d+/, '');
    throw new GenerateError('SPEC_PARSE', `invalid JSON: ${reason}`, { file, pointer: at });
  }
}

function parseYaml(text: string, file: string): unknown {
  // uniqueKeys: a duplicate key would silently drop an operation or schema.
  const document = parseDocument(text, { schema: 'core', uniqueKeys: true, prettyErrors: true });
  if (document.errors.length > 0) {
    throw new GenerateErrors(
      document.errors.map((error) => {
        const pos = error.linePos?.[0];
        const reason = (error.message.split('\n')[0] ?? error.code).replace(/ at line \d+, column \d+:?$/, '');
        return new GenerateError('SPEC_PARSE', `invalid YAML: ${reason}`, { file, pointer: pos ? `${pos.line}:${pos.col}` : undefined });
      }),
    );
  }
  // Specs reuse anchors heavily; the default alias cap (100) is a billion-laughs guard, kept but raised.
  return document.toJS({ maxAliasCount: 10_000 });
}

function lineColumn(text: string, offset: number): string {
  let line = 1;
  let start = 0;
  for (let i = 0; i < offset && i < text.length; i++) {
    if (text[i] === '\n') {
      line++;
      start = i + 1;
    }
  }
  return `${line}:${offset - start + 1}`;
}
