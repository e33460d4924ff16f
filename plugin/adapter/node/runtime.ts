import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { resolve } from 'node:path';
import type { RuntimeEnv, RuntimeFiles } from '../../config/secret-ref.js';
import type { Logger, LogLevel } from '../../log.js';
import type { Runtime } from '../../runtime.js';
import { readDocsScript } from './docs-script.js';
import { createJsonLogger } from './log.js';
import { createStore } from './store/create-store.js';
import { createIdentityTransport } from './transport/identity-transport.js';
import { decryptPrivateKeyPem } from './transport/options.js';

export interface NodeRuntimeOptions {
  /** The environment; default `process.env`. */
  readonly env?: RuntimeEnv;
  /** The log sink; default pino, JSON lines on stderr at `BANKGATE_LOG_LEVEL`. */
  readonly logger?: (level: LogLevel) => Logger;
}

/** Node's files: relative paths from the working directory, errors with Node's codes (`ENOENT`, `EACCES`). */
export const nodeFiles: RuntimeFiles = {
  read: (path) => {
    const bytes = readFileSync(resolve(path));
    return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  },
};

/**
 * The Node runtime of bankgate (see `Runtime` in the core): the environment and files of the process, undici
 * transports with the QWAC (PEM or PKCS#12, pinned CA, hot rotation, expiry gauge), the file (default),
 * Redis and memory stores, pino on stderr, `host:pid` as the replica id, decryption of encrypted PEM keys
 * (WebCrypto cannot), and the Scalar bundle for `/docs`.
 * @example const gateway = await createGateway(config, { runtime: nodeRuntime({ env: { ...process.env, PORT: '8080' } }) });
 */
export function nodeRuntime(options: NodeRuntimeOptions = {}): Runtime {
  const env = options.env ?? process.env;
  return {
    name: 'node',
    env,
    files: nodeFiles,
    replicaId: `${hostname()}:${process.pid}`,
    now: Date.now,
    logger: options.logger ?? ((level) => createJsonLogger(undefined, level)),
    transport: createIdentityTransport,
    store: (config, context) => createStore(config, { source: context.source, log: context.log }),
    decryptPrivateKey: decryptPrivateKeyPem,
    docsScript: readDocsScript,
  };
}
