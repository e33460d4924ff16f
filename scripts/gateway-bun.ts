// npm run gateway:bun: the gateway on Bun (bankgate/bun), configured by hono.config.ts like `npm run gateway`.
// Store: BANKGATE_STORE as on Node (file:<dir> by default, redis://…, memory).
import config from '../hono.config.js';
import { createGateway } from '../plugin/adapter/bun/index.js';
import { runEdgeGateway } from './lib/run-edge-gateway.js';

interface BunServer {
  stop(closeActiveConnections?: boolean): Promise<void>;
}
declare const Bun: { version: string; serve(options: { port: number; hostname: string; fetch: (request: Request) => Response | Promise<Response> }): BunServer };

await runEdgeGateway({
  runtime: `bun ${Bun.version}`,
  config,
  createGateway: (input) => createGateway(input),
  async serve(fetch, port, hostname) {
    const server = Bun.serve({ port, hostname, fetch });
    return { shutdown: () => server.stop() };
  },
  exit: (code) => process.exit(code),
});
