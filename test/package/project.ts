// An empty npm project in a temp dir, and commands run in it as a team would run them (npm, npx, node), on the
// Node that runs the tests: its directory goes first on PATH, so `#!/usr/bin/env node` bins and npm itself use it.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

export interface Result {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** PATH with the tests' Node first. */
export const NODE_DIR = dirname(process.execPath);

/**
 * The environment of a team's shell: no `npm_*` variables of the `npm test` that runs this (npm would read them
 * as its own config), the tests' Node first on PATH, and `extra` on top.
 */
export function teamEnv(extra: Readonly<Record<string, string>> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) if (!/^npm_/i.test(name)) env[name] = value;
  env.PATH = `${NODE_DIR}:${process.env.PATH ?? ''}`;
  return { ...env, ...extra };
}

/** Runs `command` in `cwd`; never throws for a non-zero exit, returns it. */
export function run(command: string, args: readonly string[], cwd: string, env: NodeJS.ProcessEnv = teamEnv(), timeoutMs = 600_000): Promise<Result> {
  return new Promise((resolvePromise) => {
    execFile(command, [...args], { cwd, env, timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      const code = error ? (typeof (error as { code?: unknown }).code === 'number' ? ((error as { code: number }).code) : 1) : 0;
      resolvePromise({ code, stdout, stderr: error && code === 1 && !stderr ? String(error) : stderr });
    });
  });
}

/** Writes `files` (path relative to `root` → content) and returns `root`. */
export function writeFiles(root: string, files: Readonly<Record<string, string>>): string {
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), content);
  }
  return root;
}

export interface Served {
  readonly child: ChildProcess;
  /** What followed `ready ` on the ready line. */
  readonly readyLine: string;
  /** Everything the process wrote on stderr so far. */
  stderr(): string;
  stop(): Promise<void>;
}

/** Spawns a long-running process and waits for its `ready …` line on stdout. */
export function serve(command: string, args: readonly string[], cwd: string, env: NodeJS.ProcessEnv, timeoutMs = 60_000): Promise<Served> {
  const child = spawn(command, [...args], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const stop = () =>
    new Promise<void>((resolvePromise) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolvePromise();
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      child.once('exit', () => {
        clearTimeout(timer);
        resolvePromise();
      });
      child.kill('SIGTERM');
    });
  return new Promise((resolvePromise, reject) => {
    const timer = setTimeout(() => {
      void stop();
      reject(new Error(`${args.join(' ')}: no ready line after ${timeoutMs} ms; stderr: ${stderr}`));
    }, timeoutMs);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${args.join(' ')} exited with ${code} before it was ready; stderr: ${stderr}`));
    });
    child.stdout!.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      const line = stdout.split('\n').find((candidate) => candidate.startsWith('ready '));
      if (line === undefined) return;
      clearTimeout(timer);
      child.removeAllListeners('exit');
      resolvePromise({ child, readyLine: line.slice('ready '.length).trim(), stderr: () => stderr, stop });
    });
  });
}
