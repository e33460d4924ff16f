import { z } from 'zod';
import { fromBase64 } from '../crypto/base64.js';

/**
 * A secret or PEM given by reference, never inline in production config:
 * `{ env: 'SEB_CLIENT_SECRET' }`, `{ file: './certs/qwac.pem' }`. `{ value }` exists for config that is
 * itself generated at run time (the sandbox's), and is documented as such.
 */
export const secretRefSchema = z.union([
  z.strictObject({ env: z.string().min(1) }),
  z.strictObject({ file: z.string().min(1) }),
  z.strictObject({ value: z.string().min(1) }),
]);

export type SecretRef = z.infer<typeof secretRefSchema>;

/** The environment of a runtime: `{ env }` references, `BANKGATE_*` settings, `PORT`. */
export type RuntimeEnv = Readonly<Record<string, string | undefined>>;

/** How a runtime reads files; absent where it has none (Workers). */
export interface RuntimeFiles {
  /**
   * The bytes of the file at `path` (relative paths are the runtime's to resolve: Node's working directory).
   * Throws an error whose `code` says why (`ENOENT`, `EACCES`, …).
   */
  read(path: string): Uint8Array;
}

/** Where references are read from: a runtime's environment and, where it has them, its files. */
export interface SecretSource {
  /** The runtime's name, for the error that says it has no files (`workers`). */
  readonly name: string;
  readonly env: RuntimeEnv;
  readonly files?: RuntimeFiles;
}

const utf8 = new TextDecoder();

/** The bytes of a `{ file }` reference; the thrown message names the config path and what to fix. */
function readFileRef(file: string, path: string, source: SecretSource): Uint8Array {
  if (!source.files) {
    throw new Error(`${path}: { file: '${file}' } cannot be read: the ${source.name} runtime has no files; give it as { env: '…' } (or the runtime's binding)`);
  }
  try {
    return source.files.read(file);
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    throw new Error(`${path}: file ${file} ${code === 'ENOENT' ? 'not found' : `unreadable (${typeof code === 'string' ? code : 'error'})`}`);
  }
}

/** Reads a reference as text; the thrown message names the config path and what to fix. */
export function readSecretRef(ref: SecretRef, path: string, source: SecretSource): string {
  if ('env' in ref) {
    const value = source.env[ref.env];
    if (value === undefined || value === '') throw new Error(`${path}: environment variable ${ref.env} is not set`);
    return value;
  }
  if ('file' in ref) return utf8.decode(readFileRef(ref.file, path, source));
  return ref.value;
}

/**
 * Reads a reference as bytes (a PKCS#12): a file as is, or base64 in an env var or value (binary cannot live
 * in an environment variable). The thrown message names the config path.
 */
export function readBinarySecretRef(ref: SecretRef, path: string, source: SecretSource): Uint8Array {
  if ('file' in ref) return readFileRef(ref.file, path, source);
  const bytes = fromBase64(readSecretRef(ref, path, source));
  if (bytes === undefined || bytes.length === 0) throw new Error(`${path}: must be the base64 of the PKCS#12 file (e.g. \`base64 -w0 qwac.pfx\`)`);
  return bytes;
}

/** Reads references for one validation pass, collecting every problem instead of stopping at the first. */
export class ProblemCollector {
  readonly problems: string[] = [];
  constructor(readonly source: SecretSource) {}

  get env(): RuntimeEnv {
    return this.source.env;
  }

  add(problem: string): void {
    this.problems.push(problem);
  }

  /** The referenced value, or undefined after recording why it could not be read. */
  read(ref: SecretRef, path: string): string | undefined {
    try {
      return readSecretRef(ref, path, this.source);
    } catch (error) {
      this.problems.push((error as Error).message);
      return undefined;
    }
  }
}
