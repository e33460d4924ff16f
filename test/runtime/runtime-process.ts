/**
 * A process of another runtime (Deno, Bun), started from the project's own devDependencies
 * (`node_modules/.bin/deno`, `node_modules/.bin/bun`), its output collected, killed by PID.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** The runtime's binary from the project's devDependencies; the message says how to get it. */
export function runtimeBinary(name: 'deno' | 'bun'): string {
  const bin = `${ROOT}node_modules/.bin/${name}`;
  if (!existsSync(bin)) throw new Error(`${bin} is missing: the ${name} devDependency is not installed (run npm ci)`);
  return bin;
}

/** dist/ as the gateway entries run it (incremental: a no-change run costs well under a second). */
export function buildJavaScript(): void {
  execFileSync(process.execPath, [`${ROOT}scripts/build.mjs`, '--js'], { cwd: ROOT, stdio: 'ignore' });
}

export interface RuntimeProcess {
  readonly pid: number;
  /** Every line the process wrote (stdout and stderr). */
  readonly lines: string[];
  /** Resolves with the first line starting with `prefix` (the rest of it), or rejects when the process exits first. */
  waitFor(prefix: string, timeoutMs?: number): Promise<string>;
  readonly exited: Promise<number | null>;
  kill(signal?: NodeJS.Signals): Promise<void>;
}

export function startRuntimeProcess(command: string, args: readonly string[], env: Record<string, string>): RuntimeProcess {
  const child: ChildProcess = spawn(command, args, {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', NO_COLOR: '1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  const waiters: Array<{ prefix: string; resolve: (rest: string) => void }> = [];
  const collect = (chunk: Buffer) => {
    for (const line of chunk.toString().split('\n').filter(Boolean)) {
      lines.push(line);
      for (const waiter of waiters.filter((w) => line.startsWith(w.prefix))) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve(line.slice(waiter.prefix.length));
      }
    }
  };
  child.stdout!.on('data', collect);
  child.stderr!.on('data', collect);
  const exited = once(child, 'exit').then(([code]) => code as number | null);
  return {
    pid: child.pid!,
    lines,
    exited,
    waitFor(prefix, timeoutMs = 45_000) {
      const seen = lines.find((line) => line.startsWith(prefix));
      if (seen !== undefined) return Promise.resolve(seen.slice(prefix.length));
      return new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`${command}: no "${prefix}" line in ${timeoutMs} ms:\n${lines.slice(-30).join('\n')}`)), timeoutMs);
        waiters.push({
          prefix,
          resolve: (rest) => {
            clearTimeout(timer);
            resolve(rest);
          },
        });
        void exited.then((code) => {
          clearTimeout(timer);
          reject(new Error(`${command} exited (${code}) before "${prefix}":\n${lines.slice(-30).join('\n')}`));
        });
      });
    },
    async kill(signal = 'SIGKILL') {
      if (child.exitCode !== null || child.signalCode !== null) return;
      process.kill(child.pid!, signal);
      await exited;
    },
  };
}
