/**
 * The Bun runtime of bankgate (see `Runtime` in the core): `process.env` and files through Bun's `node:fs`,
 * the QWAC over Bun's `fetch` `tls` option (PEM; rotation on file change), the file (default), Redis and
 * memory stores exactly as on Node (Bun runs `node:fs` and ioredis), JSON lines on stderr.
 */
import { hostname } from 'node:os';
import type { RuntimeEnv } from '../../config/secret-ref.js';
import { createLineLogger, type Logger, type LogLevel } from '../../log.js';
import type { Runtime } from '../../runtime.js';
import { nodeFiles } from '../node/runtime.js';
import { createStore } from '../node/store/create-store.js';
import { decryptPrivateKeyPem } from '../node/transport/options.js';
import { createBunIdentityTransport } from './transport.js';

export interface BunRuntimeOptions {
  /** The environment; default `process.env`. */
  readonly env?: RuntimeEnv;
  /** The log sink; default JSON lines on stderr at `BANKGATE_LOG_LEVEL`. */
  readonly logger?: (level: LogLevel) => Logger;
}

/**
 * @example Bun.serve({ port: 8080, fetch: (await createGateway(config, { runtime: bunRuntime() })).app.fetch });
 */
export function bunRuntime(options: BunRuntimeOptions = {}): Runtime {
  const env = options.env ?? process.env;
  return {
    name: 'bun',
    env,
    files: nodeFiles,
    replicaId: `${hostname()}:${process.pid}`,
    now: Date.now,
    logger: options.logger ?? ((level) => createLineLogger((line) => process.stderr.write(`${line}\n`), level)),
    transport: createBunIdentityTransport,
    store: (config, context) => createStore(config, { source: context.source, log: context.log }),
    decryptPrivateKey: decryptPrivateKeyPem,
  };
}
