/**
 * The Deno runtime of bankgate (see `Runtime` in the core): `Deno.env`, `Deno.readFileSync`, the QWAC over
 * `Deno.createHttpClient` (PEM; rotation by `Deno.watchFs`), Deno KV (default) or memory as the store, JSON
 * lines on stderr. Deno runs it with `--allow-net --allow-env --allow-read` (and `--allow-write` for a local
 * KV file and its generated key), plus `--unstable-kv` for Deno KV.
 */
import type { RuntimeEnv, RuntimeFiles } from '../../config/secret-ref.js';
import { createLineLogger, type Logger, type LogLevel } from '../../log.js';
import type { Runtime } from '../../runtime.js';
import { deno } from './deno-api.js';
import { createDenoStore } from './store.js';
import { createDenoIdentityTransport } from './transport.js';

export interface DenoRuntimeOptions {
  /** The environment; default `Deno.env.toObject()`. */
  readonly env?: RuntimeEnv;
  /** The log sink; default JSON lines on stderr at `BANKGATE_LOG_LEVEL`. */
  readonly logger?: (level: LogLevel) => Logger;
}

/** Deno's errors by name → the codes the core's messages use (`ENOENT`, `EACCES`). */
const ERROR_CODES: Record<string, string> = { NotFound: 'ENOENT', PermissionDenied: 'EACCES', IsADirectory: 'EISDIR' };

/** Deno's files: relative paths from the working directory. */
export const denoFiles: RuntimeFiles = {
  read(path) {
    try {
      return deno().readFileSync(path);
    } catch (error) {
      const name = (error as Error).name;
      throw Object.assign(new Error(`cannot read ${path}`), { code: (error as { code?: string }).code ?? ERROR_CODES[name] ?? name });
    }
  },
};

/**
 * @example Deno.serve({ port: 8080 }, (await createGateway(config, { runtime: denoRuntime() })).app.fetch);
 */
export function denoRuntime(options: DenoRuntimeOptions = {}): Runtime {
  const Deno = deno();
  const encoder = new TextEncoder();
  let host = 'deno';
  try {
    host = Deno.hostname();
  } catch {
    // Deno Deploy and a run without --allow-sys have no host name: the pid and the core's suffix still differ.
  }
  return {
    name: 'deno',
    env: options.env ?? Deno.env.toObject(),
    files: denoFiles,
    replicaId: `${host}:${Deno.pid}`,
    now: Date.now,
    logger: options.logger ?? ((level) => createLineLogger((line) => Deno.stderr.writeSync(encoder.encode(`${line}\n`)), level)),
    transport: createDenoIdentityTransport,
    store: createDenoStore,
  };
}
