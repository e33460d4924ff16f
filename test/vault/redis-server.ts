/**
 * A real redis-server for a test: started in the foreground as a child process on a free loopback port,
 * killed by its PID. Installed by scripts/ensure-test-deps.mjs (npm test's pretest).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { Redis } from 'ioredis';

export interface RedisServer {
  readonly port: number;
  readonly url: string;
  readonly pid: number;
  /** A client for assertions (raw values); closed by stop(). */
  client(): Redis;
  /** SIGSTOP / SIGCONT: Redis hangs (the socket stays open, nothing answers). */
  pause(): void;
  resume(): void;
  /** kill -9, and wait for the exit. */
  stop(): Promise<void>;
}

export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** `persistDir`: an append-only file there (fsync always), so a kill -9 and restart keep the data. */
export async function startRedis(options: { port?: number; persistDir?: string } = {}): Promise<RedisServer> {
  const port = options.port ?? (await freePort());
  const persistence = options.persistDir
    ? ['--dir', options.persistDir, '--appendonly', 'yes', '--appendfsync', 'always', '--save', '']
    : ['--save', '', '--appendonly', 'no'];
  const child: ChildProcess = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', ...persistence], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = once(child, 'exit');
  const deadline = Date.now() + 10_000;
  while (!/Ready to accept connections/.test(output)) {
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`redis-server did not start on port ${port}: ${output.slice(-500)}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  const clients: Redis[] = [];
  return {
    port,
    url: `redis://127.0.0.1:${port}/0`,
    pid: child.pid!,
    client() {
      const client = new Redis(`redis://127.0.0.1:${port}/0`, { lazyConnect: false, maxRetriesPerRequest: 1 });
      clients.push(client);
      return client;
    },
    pause: () => process.kill(child.pid!, 'SIGSTOP'),
    resume: () => process.kill(child.pid!, 'SIGCONT'),
    async stop() {
      for (const client of clients) client.disconnect();
      if (child.exitCode === null && child.signalCode === null) {
        process.kill(child.pid!, 'SIGCONT');
        process.kill(child.pid!, 'SIGKILL');
        await exited;
      }
    },
  };
}
