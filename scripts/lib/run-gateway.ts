import { createServer, type Server } from 'node:http';
import { createGateway, createNodeHandler, stopGracefully } from '../../plugin/adapter/node/index.js';
import { BankgateError, type ConfigInput, type Gateway } from '../../plugin/index.js';
import { checkBasePath } from '../../plugin/surface/mount-prefix.js';

export interface RunningGateway {
  readonly gateway: Gateway;
  readonly server: Server;
  /** Where the surface answers: the origin, and the prefix from `BANKGATE_BASE_PATH` when there is one. */
  readonly url: string;
  stop(): Promise<void>;
}

/**
 * Validates the config, then serves the gateway on HOST:PORT with the Node fast path (`bankgate/node`): bank
 * calls straight from Node's request to the bank, everything else through the Hono app. A bad config exits
 * with every problem listed. `BANKGATE_BASE_PATH` (`/banks`) serves the whole surface under that prefix.
 */
export async function runGateway(config: ConfigInput, port = Number(process.env.PORT ?? 3000), host = process.env.HOST ?? '127.0.0.1'): Promise<RunningGateway> {
  let gateway: Gateway;
  try {
    const basePath = checkBasePath(process.env.BANKGATE_BASE_PATH, 'BANKGATE_BASE_PATH');
    gateway = await createGateway(config, { basePath });
  } catch (error) {
    // A config mistake (hono.config.ts, an env variable) is the operator's to fix: the message, no stack.
    if ((error instanceof BankgateError && error.code === 'config_invalid') || (error instanceof Error && /sandbox/.test(error.message))) {
      console.error(`bankgate: ${error.message}`);
      process.exit(1);
    }
    throw error;
  }
  const server = createServer(createNodeHandler(gateway));
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) => reject(error.code === 'EADDRINUSE' ? new Error(`port ${port} is in use: set PORT to a free port`) : error));
    server.listen(port, host, () => resolve());
  });
  const url = `http://${host}:${port}${gateway.basePath}`;
  return {
    gateway,
    server,
    url,
    /** Graceful: requests and token refreshes in flight finish (bounded), new refreshes are refused meanwhile. */
    stop: () => stopGracefully(server, gateway),
  };
}
