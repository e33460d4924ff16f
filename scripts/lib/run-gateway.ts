import { serve, type ServerType } from '@hono/node-server';
import { ConfigError, createGateway, type ConfigInput, type Gateway } from '../../plugin/index.js';

export interface RunningGateway {
  readonly gateway: Gateway;
  readonly server: ServerType;
  readonly url: string;
  stop(): Promise<void>;
}

/** Validates the config, then serves the gateway on HOST:PORT. A bad config exits with every problem listed. */
export async function runGateway(config: ConfigInput, port = Number(process.env.PORT ?? 3000), host = process.env.HOST ?? '127.0.0.1'): Promise<RunningGateway> {
  let gateway: Gateway;
  try {
    gateway = await createGateway(config);
  } catch (error) {
    if (error instanceof ConfigError || (error instanceof Error && /sandbox/.test(error.message))) {
      console.error(`bankgate: ${error.message}`);
      process.exit(1);
    }
    throw error;
  }
  const server = await new Promise<ServerType>((resolve, reject) => {
    const s = serve({ fetch: gateway.app.fetch, port, hostname: host }, () => resolve(s));
    s.once('error', (error: NodeJS.ErrnoException) => reject(error.code === 'EADDRINUSE' ? new Error(`port ${port} is in use: set PORT to a free port`) : error));
  });
  const url = `http://${host}:${port}`;
  return {
    gateway,
    server,
    url,
    async stop() {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await gateway.close();
    },
  };
}
