/**
 * `bankgate/workers`: bankgate on Cloudflare Workers. `createWorkersHandler(config)` is the Worker's default
 * export; `BankgateStoreObject` is the Durable Object class the store runs in (export it from the entry too).
 * The QWAC comes from an `mtls_certificates` binding named in config (`mtls: { binding: 'QWAC_SEB' }`).
 */
export { createWorkersHandler, type WorkersHandler } from './handler.js';
export type { Gateway, GatewayOptions } from '../../gateway.js';
export { workersRuntime, createWorkersStore, DEFAULT_WORKERS_STORE_URL, type WorkersRuntimeOptions } from './runtime.js';
export { workersTransport } from './transport.js';
export { BankgateStoreObject, type CellOperation } from './store-object.js';
export { createDurableObjectStore, type DurableObjectStoreOptions } from './do-store.js';
export type { Fetcher, DurableObjectNamespace, DurableObjectState, WorkersEnv, ExecutionContext } from './workers-api.js';
