/**
 * A gateway process for the vault tests: the project's own hono.config.ts, configured by env as an operator
 * would (PORT, BANKGATE_STORE, BANKGATE_STORE_KEY, BANKGATE_DEV_KEY, BANKGATE_SANDBOX_FILE), plus
 * BANKGATE_TEST_LOCK_TTL_SECONDS to shorten the refresh lock. Prints `ready <url>` on stdout; logs go to stderr.
 */
import config from '../../hono.config.js';
import type { BankgateConfig } from '../../plugin/index.js';
import { runGateway } from '../../scripts/lib/run-gateway.js';

const running = await runGateway(async () => {
  const built = await (config as () => Promise<BankgateConfig> | BankgateConfig)();
  const lockTtl = process.env.BANKGATE_TEST_LOCK_TTL_SECONDS;
  if (lockTtl) built.store = { ...(process.env.BANKGATE_STORE ? { url: process.env.BANKGATE_STORE } : {}), lockTtlSeconds: Number(lockTtl) };
  return built;
});
process.stdout.write(`ready ${running.url}\n`);
process.once('SIGTERM', () => void running.stop().then(() => process.exit(0)));
