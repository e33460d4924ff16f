// Helpers for the generator tests: run the real CLI (no mocks) and snapshot directories.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { listFiles } from '../../scripts/generate/check.js';

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const sharedSpecs = resolve(repoRoot, '../shared/specs');

export interface CliResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** `tsx scripts/generate/main.ts …args` from the repository root; arguments are passed as an array (no shell). */
export function runGenerate(args: readonly string[], cwd = repoRoot): Promise<CliResult> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(join(repoRoot, 'node_modules', '.bin', 'tsx'), [join(repoRoot, 'scripts', 'generate', 'main.ts'), ...args], {
      cwd,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolvePromise({ code, stdout, stderr }));
  });
}

/** `relative path → sha256` of every file under `root`, to prove a directory was left byte-for-byte untouched. */
export async function snapshot(root: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const path of await listFiles(root)) out[path] = createHash('sha256').update(await readFile(join(root, path))).digest('hex');
  return out;
}

/** stderr lines starting with `error:`. */
export function errorLines(result: CliResult): string[] {
  return result.stderr.split('\n').filter((line) => line.startsWith('error:'));
}
