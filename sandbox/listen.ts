/**
 * Servers are listened on first and handed their request handler afterwards: the authorization servers' issuers
 * and every URL in sandbox.json contain the real ports, which are only known once the sockets are bound.
 */
import { once } from 'node:events';
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer, type ServerOptions as HttpsServerOptions } from 'node:https';
import type { AddressInfo } from 'node:net';

export type RequestHandler = (req: IncomingMessage, res: ServerResponse) => void;

export interface BoundServer {
  readonly server: Server;
  readonly port: number;
  /** `https://127.0.0.1:<port>` (or `http://` for the control server), no trailing slash. */
  readonly origin: string;
  handle(handler: RequestHandler): void;
  close(): Promise<void>;
}

export const HOST = '127.0.0.1';

/**
 * Binds an HTTP or HTTPS server on 127.0.0.1 (`port` 0 = ephemeral). Requests that arrive before `handle()` get 503.
 */
export async function bindServer(port: number, tls?: HttpsServerOptions): Promise<BoundServer> {
  let handler: RequestHandler = (_req, res) => {
    res.statusCode = 503;
    res.end('sandbox starting');
  };
  const listener: RequestHandler = (req, res) => handler(req, res);
  const server: Server = tls ? createHttpsServer(tls, listener) : createHttpServer(listener);
  server.listen(port, HOST);
  await once(server, 'listening');
  const actual = (server.address() as AddressInfo).port;
  return {
    server,
    port: actual,
    origin: `${tls ? 'https' : 'http'}://${HOST}:${actual}`,
    handle(next) {
      handler = next;
    },
    close() {
      return new Promise((resolve) => {
        // Keep-alive sockets of test clients would hold close() open: stop() must return promptly.
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}
