/**
 * A gateway process for the vault tests: the project's own hono.config.ts, configured by env as an operator
 * would (PORT, BANKGATE_STORE, BANKGATE_STORE_KEY, BANKGATE_DEV_KEY, BANKGATE_SANDBOX_FILE), plus
 * BANKGATE_TEST_LOCK_TTL_SECONDS to shorten the refresh lock, BANKGATE_TEST_HANDOVER_WAIT_SECONDS (store.handoverWaitSeconds), and BANKGATE_TEST_CLOCK_FILE: on SIGUSR2 the
 * gateway's clock moves to `Date.now()` plus the milliseconds in that file (tests expire tokens that way,
 * instead of sleeping through them) and prints `clock <offset>`. Prints `ready <url>` on stdout; logs go to stderr.
 */
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import config from '../../hono.config.js';
import { createGateway, createNodeHandler, stopGracefully } from '../../plugin/adapter/node/index.js';
import type { BankgateConfig } from '../../plugin/index.js';

let clockOffsetMs = 0;
const clockFile = process.env.BANKGATE_TEST_CLOCK_FILE;
if (clockFile) {
  process.on('SIGUSR2', () => {
    clockOffsetMs = Number(readFileSync(clockFile, 'utf8'));
    process.stdout.write(`clock ${clockOffsetMs}\n`);
  });
}

const built = await (config as () => Promise<BankgateConfig> | BankgateConfig)();
const lockTtl = process.env.BANKGATE_TEST_LOCK_TTL_SECONDS;
const handoverWait = process.env.BANKGATE_TEST_HANDOVER_WAIT_SECONDS;
if (lockTtl || handoverWait) {
  built.store = {
    ...(process.env.BANKGATE_STORE ? { url: process.env.BANKGATE_STORE } : {}),
    ...(lockTtl ? { lockTtlSeconds: Number(lockTtl) } : {}),
    ...(handoverWait ? { handoverWaitSeconds: Number(handoverWait) } : {}),
  };
}
const gateway = await createGateway(built, clockFile ? { now: () => Date.now() + clockOffsetMs } : {});
const server = createServer(createNodeHandler(gateway));
const port = Number(process.env.PORT ?? 3000);
await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
process.stdout.write(`ready http://127.0.0.1:${port}\n`);
// What `npm start` does on SIGTERM (scripts/lib/run-gateway.ts): requests and refreshes in flight finish first.
process.once('SIGTERM', () => void stopGracefully(server, gateway).finally(() => process.exit(0)));
