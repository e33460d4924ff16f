import type { ConfigInput, Gateway } from '../../plugin/index.js';
import { BankgateError } from '../../plugin/index.js';
import { saveDevKey } from './dev-key-file.js';

export interface EdgeServer {
  /** Stops accepting and waits for the calls in flight. */
  shutdown(): Promise<void>;
}

/**
 * `npm run gateway:deno` / `gateway:bun`: what `npm run gateway` does, on another runtime's server. The
 * config (hono.config.ts) and environment are the same (`PORT`, `HOST`, `BANKGATE_DEV_KEY`,
 * `.bankgate/sandbox.json`); the runtime supplies `createGateway` (its adapter) and `serve`. Prints
 * `bankgate listening on <url>` (and `ready <url>` for tests) once it accepts calls.
 */
export async function runEdgeGateway(options: {
  readonly runtime: string;
  readonly config: ConfigInput;
  createGateway(config: ConfigInput): Promise<Gateway>;
  serve(fetch: (request: Request) => Response | Promise<Response>, port: number, hostname: string): Promise<EdgeServer>;
  exit(code: number): never;
}): Promise<void> {
  const port = Number(process.env.PORT ?? 3000);
  const hostname = process.env.HOST ?? '127.0.0.1';
  let gateway: Gateway;
  try {
    gateway = await options.createGateway(options.config);
  } catch (error) {
    if ((error instanceof BankgateError && error.code === 'config_invalid') || (error instanceof Error && /sandbox/.test(error.message))) {
      console.error(`bankgate: ${error.message}`);
      options.exit(1);
    }
    throw error;
  }
  if (gateway.devKeyGenerated) saveDevKey(gateway.devKey!);
  const server = await options.serve((request) => gateway.app.fetch(request), port, hostname);
  const url = `http://${hostname}:${port}`;
  console.log(`bankgate (${options.runtime}) listening on ${url}`);
  if (gateway.devKey) console.log(`dev key: ${gateway.devKeyGenerated ? `${gateway.devKey} (generated; set BANKGATE_DEV_KEY to choose one)` : 'from the config or BANKGATE_DEV_KEY'}`);
  console.log(`ready ${url}`);
  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    void server
      .shutdown()
      .then(() => gateway.close())
      .finally(() => options.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}
