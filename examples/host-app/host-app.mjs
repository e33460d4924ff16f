// The team's gateway: its own routes and middleware, and bankgate mounted under /banks.
import { Hono } from 'hono';
import { cors } from 'hono/cors';

/**
 * The host app around a bankgate gateway (`createGateway` from 'bankgate/node'). Nothing of bankgate leaks into the
 * host's own routes: under /banks everything is bankgate's (its 404s included), elsewhere the host answers.
 * @param {import('bankgate/node').Gateway} gateway
 * @param {{ log?: (line: string) => void }} [options]
 */
export function createHostApp(gateway, options = {}) {
  const log = options.log ?? ((line) => console.log(line));
  const app = new Hono();
  // The host's access log: method, path and status, never the query (the bank's callback carries the
  // authorization code and state there).
  app.use('*', async (c, next) => {
    const started = performance.now();
    await next();
    log(`${c.req.method} ${c.req.path} ${c.res.status} ${Math.round(performance.now() - started)}ms`);
  });
  app.use('*', cors({ origin: (origin) => (origin.startsWith('http://127.0.0.1') ? origin : null) }));
  app.get('/', (c) => c.json({ service: 'treasury-gateway', banks: '/banks', docs: '/banks/docs' }));
  app.get('/status', (c) => c.json({ ok: true }));
  app.route('/banks', gateway.app);
  return app;
}
