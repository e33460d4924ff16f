import type { Server } from 'node:http';
import type { Gateway } from '../../gateway.js';
import { DRAIN_TIMEOUT_MS } from '../../tokens/token-engine.js';

/**
 * Stops a gateway served by a Node HTTP server without losing a refresh (what SIGTERM should do: rolling
 * deploys send it). At once: the server stops accepting connections and closes its idle keep-alive ones, and
 * the gateway stops starting token refreshes (a call that needs one is answered 503, retryable). Then it waits
 * until the requests in flight are answered and the refreshes in flight are stored, at most `timeoutMs`
 * (default `DRAIN_TIMEOUT_MS`, 25 s: two refresh attempts and a margin), and closes the rest.
 * @example process.once('SIGTERM', () => void stopGracefully(server, gateway).then(() => process.exit(0)));
 */
export async function stopGracefully(server: Server, gateway: Gateway, timeoutMs = DRAIN_TIMEOUT_MS): Promise<void> {
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  // A keep-alive connection that goes idle during the drain is closed too (Node closes only those idle at close()).
  server.closeIdleConnections();
  const idle = setInterval(() => server.closeIdleConnections(), 50);
  let bound: ReturnType<typeof setTimeout> | undefined;
  try {
    await Promise.race([Promise.all([closed, gateway.engine.drain(timeoutMs)]), new Promise((resolve) => (bound = setTimeout(resolve, timeoutMs)))]);
  } finally {
    clearInterval(idle);
    clearTimeout(bound);
  }
  server.closeAllConnections();
  await gateway.close();
}
