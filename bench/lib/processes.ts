/** Child processes of the benchmarks: started, awaited until they print their ready line, stopped by PID. */
import { spawn, type ChildProcess } from 'node:child_process';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
/** `node --import tsx`: one process (the `tsx` CLI would fork a second one, and /proc would measure the wrong PID). */
export const NODE_TS = ['--import', resolve(repoRoot, 'node_modules/tsx/dist/loader.mjs')];

export interface Started {
  readonly child: ChildProcess;
  readonly pid: number;
  /** What followed `ready` on the ready line (a URL, for the gateway). */
  readonly readyLine: string;
  stop(): Promise<void>;
}

/** Spawns `command` and waits for a stdout line starting with `ready`; stderr goes to the parent's stderr only when `verbose`. */
export function startProcess(command: string, args: string[], env: Record<string, string>, options: { timeoutMs?: number; verbose?: boolean } = {}): Promise<Started> {
  const child = spawn(command, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', options.verbose ? 'inherit' : 'ignore'], cwd: repoRoot });
  return new Promise((resolvePromise, reject) => {
    let buffered = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${command} ${args.join(' ')}: not ready after ${options.timeoutMs ?? 30_000} ms`));
    }, options.timeoutMs ?? 30_000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${command} ${args.at(-1)} exited with ${code} before it was ready`));
    });
    child.stdout!.on('data', (chunk: Buffer) => {
      buffered += chunk.toString();
      const line = buffered.split('\n').find((l) => l.startsWith('ready'));
      if (line === undefined) return;
      clearTimeout(timer);
      child.stdout!.removeAllListeners('data');
      child.stdout!.resume();
      child.removeAllListeners('exit');
      resolvePromise({ child, pid: child.pid!, readyLine: line.slice('ready'.length).trim(), stop: () => stopProcess(child) });
    });
  });
}

export function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolvePromise) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
    child.once('exit', () => {
      clearTimeout(timer);
      resolvePromise();
    });
    child.kill('SIGTERM');
  });
}
