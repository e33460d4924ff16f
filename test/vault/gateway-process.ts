/** Gateway replicas as real child processes (gateway-entry.ts), killed by PID. */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { freePort } from './redis-server.js';

const ENTRY = fileURLToPath(new URL('./gateway-entry.ts', import.meta.url));
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
// By absolute URL: a process started in another working directory (the restart test's) still finds tsx.
const TSX = new URL('../../node_modules/tsx/dist/loader.mjs', import.meta.url).href;

export interface GatewayProcess {
  readonly url: string;
  readonly port: number;
  readonly pid: number;
  /** Every line the process wrote (stdout and stderr), across its life. */
  readonly lines: string[];
  kill(signal: NodeJS.Signals): Promise<void>;
}

export async function startGatewayProcess(options: { env: Record<string, string>; cwd?: string; port?: number }): Promise<GatewayProcess> {
  const port = options.port ?? (await freePort());
  const child: ChildProcess = spawn(process.execPath, ['--import', TSX, ENTRY], {
    cwd: options.cwd ?? ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', NODE_OPTIONS: '', ...options.env, PORT: String(port) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  let ready: (() => void) | undefined;
  const readyPromise = new Promise<void>((resolve) => (ready = resolve));
  const collect = (chunk: Buffer) => {
    for (const line of chunk.toString().split('\n').filter(Boolean)) {
      lines.push(line);
      if (line.startsWith('ready ')) ready?.();
    }
  };
  child.stdout!.on('data', collect);
  child.stderr!.on('data', collect);
  const exited = once(child, 'exit');
  const failed = exited.then(() => {
    throw new Error(`gateway process exited before it was ready:\n${lines.slice(-20).join('\n')}`);
  });
  const timeout = new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`gateway process not ready in 30 s:\n${lines.slice(-20).join('\n')}`)), 30_000).unref());
  await Promise.race([readyPromise, failed, timeout]);
  failed.catch(() => {});
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    pid: child.pid!,
    lines,
    async kill(signal) {
      if (child.exitCode !== null || child.signalCode !== null) return;
      process.kill(child.pid!, signal);
      await exited;
    },
  };
}
