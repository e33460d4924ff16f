// npm run gateway:deno: the gateway on Deno (bankgate/deno), configured by hono.config.ts like `npm run gateway`.
// Store: BANKGATE_STORE (deno-kv:<path>, memory), default deno-kv:./.bankgate/tokens.kv.
import config from '../hono.config.js';
import { createGateway } from '../plugin/adapter/deno/index.js';
import { deno } from '../plugin/adapter/deno/deno-api.js';
import { runEdgeGateway } from './lib/run-edge-gateway.js';

const Deno = deno();
await runEdgeGateway({
  runtime: `deno ${Deno.version.deno}`,
  config,
  createGateway: (input) => createGateway(input),
  async serve(fetch, port, hostname) {
    // Deno.serve listens before it returns (and throws when the port is taken).
    const server = Deno.serve({ port, hostname, onListen: () => {} }, fetch);
    return { shutdown: () => server.shutdown() };
  },
  exit: (code) => Deno.exit(code),
});
