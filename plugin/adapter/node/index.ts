/**
 * `bankgate/node`: bankgate on Node. `createGateway` with the Node runtime by default, the fast request
 * listener (`createNodeHandler`: declared bank calls without WHATWG framing; the rest via Hono), and the
 * Node pieces on their own: the undici transport, the file and Redis stores, the pino log sink, certificate
 * inspection for operators.
 */
export { createGateway } from './create-gateway.js';
export type { Gateway, GatewayOptions } from '../../gateway.js';
export { nodeRuntime, nodeFiles, type NodeRuntimeOptions } from './runtime.js';
export { createNodeHandler } from './node-handler.js';
export { stopGracefully } from './graceful-stop.js';
export { createJsonLogger } from './log.js';
export { createNodeTransport, type NodeTransport, type NodeTransportOptions } from './transport/node-transport.js';
export { nodeBankTransport } from './transport/node-bank-transport.js';
export { decryptPrivateKeyPem, type TlsOptions, type TimeoutOptions } from './transport/options.js';
export { loadClientIdentity, pkcs12ConversionHelp, thumbprintOf, ClientIdentityError, type ClientIdentity, type ClientIdentityMaterial } from './transport/client-identity.js';
export { inspectCertificate, formatCertificateInfo, type CertificateInfo } from './transport/certificate-info.js';
export { createStore, storeUrlOf } from './store/create-store.js';
export { createFileStore, type FileStoreOptions } from './store/file-store.js';
export { createRedisStore, type RedisStoreOptions } from './store/redis-store.js';
export { createFileJournal } from './store/file-journal.js';
