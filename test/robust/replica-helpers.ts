/** Two gateways on one real Redis, in process (issue 15 handover tests): a store switch and a second replica. */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import config from '../../hono.config.js';
import { createGateway, createJsonLogger, createNodeHandler } from '../../plugin/adapter/node/index.js';
import { BankgateError } from '../../plugin/errors/bankgate-error.js';
import type { BankgateConfig, Gateway } from '../../plugin/index.js';
import type { ConnectionStore } from '../../plugin/store/connection.js';
import { DEV_KEY, sleep, STORE_KEY } from '../vault/vault-harness.js';

/** A store that can be made unreachable (`away`: every call throws store_unavailable, as the Redis store does). */
export function switchable(inner: ConnectionStore): ConnectionStore & { away: boolean } {
  const wrapped = { away: false } as Record<string, unknown> & { away: boolean };
  for (const [name, method] of Object.entries(inner as unknown as Record<string, (...args: unknown[]) => Promise<unknown>>)) {
    if (typeof method !== 'function') continue;
    wrapped[name] = (...args: unknown[]) => (wrapped.away && name !== 'close' ? Promise.reject(new BankgateError('store_unavailable', { status: 503, detail: 'store away (test switch)' })) : method.apply(inner, args));
  }
  return wrapped as unknown as ConnectionStore & { away: boolean };
}

export interface Replica {
  readonly gateway: Gateway;
  readonly logLines: string[];
  /** `GET /sg/aisp/accounts` with connection `id`. */
  accounts(id: string): Promise<Response>;
  close(): Promise<void>;
}

/**
 * A second gateway on the harness's sandbox and config (what vault-harness.ts does for its one gateway).
 * `handoverWaitSeconds`: `store.handoverWaitSeconds` (default 0, no wait for a dead holder's journal).
 */
export async function startReplica(store: ConnectionStore, now: () => number, redisUrl: string, lockTtlSeconds: number, handoverWaitSeconds = 0): Promise<Replica> {
  const built = await (config as () => Promise<BankgateConfig> | BankgateConfig)();
  built.store = { url: redisUrl, lockTtlSeconds, handoverWaitSeconds };
  const logLines: string[] = [];
  let port = 0;
  const gateway = await createGateway(built, {
    publicUrl: () => `http://127.0.0.1:${port}`,
    log: createJsonLogger((line) => logLines.push(line)),
    env: { ...process.env, BANKGATE_DEV_KEY: DEV_KEY, BANKGATE_STORE_KEY: STORE_KEY },
    store,
    now,
  });
  const server: Server = createServer(createNodeHandler(gateway));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
  return {
    gateway,
    logLines,
    accounts: (id) => fetch(`http://127.0.0.1:${port}/sg/aisp/accounts`, { headers: { authorization: `Bearer ${DEV_KEY}`, 'x-connection-id': id } }),
    async close() {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await gateway.close();
    },
  };
}

/** Waits until the sandbox's armed fault rules were all taken (the request that takes the last one is at the bank). */
export async function faultsTaken(controlUrl: string, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    const armed = (await (await fetch(`${controlUrl}/faults`)).json()) as unknown[];
    if (armed.length === 0) return;
    if (Date.now() > deadline) throw new Error('the armed fault was not taken');
    await sleep(10);
  }
}

export async function until(condition: () => boolean | Promise<boolean>, what: string, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}
