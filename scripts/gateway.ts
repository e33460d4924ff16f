// npm run gateway: the gateway alone, configured by hono.config.ts (the sandbox must already be running).
import config from '../hono.config.js';
import { saveDevKey } from './lib/dev-key-file.js';
import { runGateway } from './lib/run-gateway.js';

const running = await runGateway(config);
if (running.gateway.devKeyGenerated) saveDevKey(running.gateway.devKey!);
console.log(`bankgate listening on ${running.url}`);
if (running.gateway.devKey) console.log(`dev key: ${running.gateway.devKeyGenerated ? `${running.gateway.devKey} (generated; set BANKGATE_DEV_KEY to choose one)` : 'from the config or BANKGATE_DEV_KEY'}`);
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => void running.stop().then(() => process.exit(0)));
