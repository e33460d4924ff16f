/**
 * bankgate: a typed Hono gateway for PSD2 / open-banking APIs. The portable core: it imports nothing
 * runtime-specific (no `node:*`, undici, ioredis or pino). A runtime adapter supplies transports, the store,
 * the log sink and the environment (`Runtime`); on Node, import from `bankgate/node`.
 */
export { defineConfig, type ConfigInput } from './config/define-config.js';
export type { BankgateConfig } from './config/schema.js';
export { resolveConfig, collectConfig, ConfigError, type ResolvedConfig, type ResolvedBank, type ResolvedApi, type ConfigSource } from './config/resolve-config.js';
export { ProblemCollector, readSecretRef, readBinarySecretRef, type SecretRef, type SecretSource, type RuntimeEnv, type RuntimeFiles } from './config/secret-ref.js';
export { createGateway, type Gateway, type GatewayOptions, type GatewayPipeline } from './gateway.js';
export type { Runtime, IdentityTransport, IdentityTransportRequest, RuntimeTransportContext, RuntimeStoreContext } from './runtime.js';
export { BankgateError, type BankgateErrorCode } from './errors/bankgate-error.js';
export { createLineLogger, logLevelFrom, redact, scrub, silentLogger, withFields, type Logger, type LogLevel } from './log.js';
export { MetricsRegistry } from './observability/metrics.js';
export type { BankTransport, BankRequest, BankResponse } from './transport/types.js';
export type { MtlsConfig, PemMtlsConfig, Pkcs12MtlsConfig, TransportConfig } from './transport/config-schema.js';
export { createFetchTransport, type FetchTransportOptions } from './transport/fetch-transport.js';
export { createBankTransport, type ConfiguredBankTransport } from './transport/bank-transport.js';
export { prepareSigning, resolveSigningOptions, type ResolvedSigning, type SigningOptions, type DecryptPrivateKey } from './transport/signing-options.js';
export { createRequestSigner, type RequestSigner } from './transport/request-signer.js';
export { classifyTransportError } from './transport/classify-error.js';
export { reportExpiry, type ExpiringCertificate } from './transport/certificate-expiry.js';
export type { ApiManifest, PrecompiledValidatorModule, RouteManifest, TokenKind } from './manifest/types.js';
export type { Connection, ConnectionStore, TokenSet } from './store/connection.js';
export type { StoreConfig } from './store/config-schema.js';
export { createMemoryStore } from './store/memory-store.js';
export { journaledStore, type JournaledStoreOptions } from './store/journaled-store.js';
export type { JournalEntry, TokenJournal } from './store/token-journal.js';
export { KeyRing, parseStoreKey, generateStoreKey, type StoreKey } from './store/key-ring.js';
export { configuredStoreKeys } from './store/store-keys.js';
export { callerAuth } from './surface/caller-auth.js';
export { bankRoutes } from './surface/bank-routes.js';
