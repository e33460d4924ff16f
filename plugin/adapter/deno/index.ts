/**
 * `bankgate/deno`: bankgate on Deno. `createGateway` with the Deno runtime by default (serve `gateway.app.fetch`
 * with `Deno.serve` or `deno serve`), and the Deno pieces on their own: the `Deno.createHttpClient` transport
 * and the Deno KV store (compare-and-set on versionstamps).
 */
export { createGateway } from './create-gateway.js';
export type { Gateway, GatewayOptions } from '../../gateway.js';
export { denoRuntime, denoFiles, type DenoRuntimeOptions } from './runtime.js';
export { createDenoIdentityTransport, denoNetworkError, DenoNetworkError } from './transport.js';
export { createDenoStore, DEFAULT_DENO_STORE_URL } from './store.js';
export { createDenoKvStore, type DenoKvStoreOptions } from './kv-store.js';
export type { DenoKv } from './deno-api.js';
