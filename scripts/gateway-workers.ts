// npm run gateway:workers: bankgate/workers in local workerd (Miniflare), in front of `npm run sandbox`,
// with the same environment as `npm run gateway` (PORT, BANKGATE_DEV_KEY, .bankgate/sandbox.json) plus
// BANKGATE_STORE_KEY (generated for the run when unset: the Durable Object store needs a key).
import { randomBytes } from 'node:crypto';
import { readSandboxFile } from '../sandbox/sandbox-file.js';
import { loadDevKey, saveDevKey } from './lib/dev-key-file.js';
import { startWorkersGateway } from './workers/workers-gateway.js';

let sandbox;
try {
  sandbox = readSandboxFile();
} catch (error) {
  console.error(`bankgate: ${(error as Error).message}`);
  process.exit(1);
}
let devKey = loadDevKey();
if (!devKey) {
  devKey = randomBytes(24).toString('base64url');
  saveDevKey(devKey);
  console.log(`dev key: ${devKey} (generated; saved to .bankgate/dev-key; set BANKGATE_DEV_KEY to choose one)`);
}
const running = await startWorkersGateway({
  sandbox,
  port: Number(process.env.PORT ?? 3000),
  host: process.env.HOST ?? '127.0.0.1',
  devKey,
  storeKey: process.env.BANKGATE_STORE_KEY ?? randomBytes(32).toString('base64'),
  ...(process.env.BANKGATE_STORE ? { store: process.env.BANKGATE_STORE } : {}),
  log: true,
});
console.log(`bankgate (workerd) listening on ${running.url}`);
console.log(`ready ${running.url}`);
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => void running.dispose().then(() => process.exit(0)));
