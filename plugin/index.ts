/** bankgate: a typed Hono gateway for PSD2 / open-banking APIs. */
export { defineConfig, type ConfigInput } from './config/define-config.js';
export type { BankgateConfig } from './config/schema.js';
export { resolveConfig, ConfigError, type ResolvedConfig, type ResolvedBank } from './config/resolve-config.js';
export { createGateway, type Gateway, type GatewayOptions } from './gateway.js';
export { BankgateError, type BankgateErrorCode } from './errors/bankgate-error.js';
export type { BankTransport, BankRequest, BankResponse } from './transport/types.js';
export type { ApiManifest, RouteManifest, TokenKind } from './manifest/types.js';
export type { Connection, ConnectionStore, TokenSet } from './store/connection.js';
export { createMemoryStore } from './store/memory-store.js';
export { callerAuth } from './surface/caller-auth.js';
export { bankRoutes } from './surface/bank-routes.js';
