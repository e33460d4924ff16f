import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { z } from 'zod';

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

/** Reads a reference; the thrown message names the config path and what to fix. */
export function readSecretRef(ref: SecretRef, path: string, env: NodeJS.ProcessEnv = process.env): string {
  if ('env' in ref) {
    const value = env[ref.env];
    if (value === undefined || value === '') throw new Error(`${path}: environment variable ${ref.env} is not set`);
    return value;
  }
  if ('file' in ref) {
    const full = resolve(ref.file);
    try {
      return readFileSync(full, 'utf8');
    } catch (error) {
      const reason = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'not found' : `unreadable (${(error as NodeJS.ErrnoException).code})`;
      throw new Error(`${path}: file ${ref.file} ${reason}`);
    }
  }
  return ref.value;
}

/** Reads references for one validation pass, collecting every problem instead of stopping at the first. */
export class ProblemCollector {
  readonly problems: string[] = [];
  constructor(readonly env: NodeJS.ProcessEnv) {}

  add(problem: string): void {
    this.problems.push(problem);
  }

  /** The referenced value, or undefined after recording why it could not be read. */
  read(ref: SecretRef, path: string): string | undefined {
    try {
      return readSecretRef(ref, path, this.env);
    } catch (error) {
      this.problems.push((error as Error).message);
      return undefined;
    }
  }
}
