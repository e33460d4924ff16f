/**
 * `bankgate/bun`: bankgate on Bun. `createGateway` with the Bun runtime by default (serve `gateway.app.fetch`
 * with `Bun.serve`), and the Bun transport on its own (Bun's `fetch` with `tls`; never undici's Agent, whose
 * TLS options Bun ignores). The stores are Node's (`bankgate/node`: file, Redis), which Bun runs as they are.
 */
export { createGateway } from './create-gateway.js';
export type { Gateway, GatewayOptions } from '../../gateway.js';
export { bunRuntime, type BunRuntimeOptions } from './runtime.js';
export { createBunIdentityTransport, bunNetworkError, BunNetworkError } from './transport.js';
