// npm start: the repository's sandbox banks and this host app, in one process, like the root `npm start`.
// Reads what `npm run gateway` reads: PORT (3000), HOST (127.0.0.1), BANKGATE_DEV_KEY, .bankgate/sandbox.json of
// the repository (so that `npm run connect` there works against this app with BANKGATE_URL=…/banks).
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { serve } from '@hono/node-server';
import { createGateway } from 'bankgate/node';
import { createHostApp } from './host-app.mjs';

const repository = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const port = Number(process.env.PORT ?? 3000);
const host = process.env.HOST ?? '127.0.0.1';
const prefix = '/banks';

// The banks redirect the PSU back to the gateway's callback, which is under the prefix: register it with the
// sandbox banks (loopback URIs: any port). A real bank's registration lists it the same way.
process.env.SANDBOX_REDIRECT_URIS = ['seb', 'sg', 'bg', 'ukob'].map((bank) => `http://127.0.0.1${prefix}/callback/${bank}`).join(',');
process.env.BANKGATE_SANDBOX_FILE ??= join(repository, '.bankgate', 'sandbox.json');
// The sandbox and the config that points bankgate at it come from the repository (its built JavaScript): a team's
// gateway has its own hono.config and generated/ instead, and real banks instead of the sandbox.
const { startSandbox } = await import(join(repository, 'dist', 'sandbox', 'index.js'));
const sandbox = await startSandbox({ dir: dirname(process.env.BANKGATE_SANDBOX_FILE), log: () => {} });
const { default: config } = await import(join(repository, 'dist', 'hono.config.js'));

const gateway = await createGateway(config, { publicUrl: process.env.BANKGATE_PUBLIC_URL ?? `http://${host}:${port}` });
if (gateway.devKeyGenerated) {
  // Where `npm run connect` looks for it.
  const file = join(repository, '.bankgate', 'dev-key');
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, `${gateway.devKey}\n`, { mode: 0o600 });
  chmodSync(file, 0o600);
}
const app = createHostApp(gateway);
const server = serve({ fetch: app.fetch, port, hostname: host }, () => {
  const url = `http://${host}:${port}`;
  console.log(`host app listening on ${url}, bankgate under ${url}${prefix}
  dev key:     ${gateway.devKey ?? '(from the config)'}${gateway.devKeyGenerated ? '  (generated; saved to .bankgate/dev-key)' : ''}
  operations:  ${url}${prefix}/openapi.json

From the repository root:
  BANKGATE_URL=${url}${prefix} npm run connect -- --bank seb --connection demo-seb
  curl -s ${url}${prefix}/seb/ais/accounts -H "Authorization: Bearer $(cat .bankgate/dev-key)" -H 'X-Connection-Id: demo-seb' -H 'PSU-IP-Address: 203.0.113.7'`);
});
server.on('error', (error) => {
  console.error(error.code === 'EADDRINUSE' ? `port ${port} is in use: set PORT to a free port` : error);
  process.exit(1);
});

const stop = async () => {
  server.close();
  await gateway.close();
  await sandbox.stop();
  process.exit(0);
};
process.once('SIGINT', () => void stop());
process.once('SIGTERM', () => void stop());
