/**
 * The Workers runtime of bankgate (see `Runtime` in the core): the Worker's `env` (its string vars and
 * secrets; no files), the QWAC from an `mtls_certificates` binding, the Durable Object store
 * (`durable-object:<BINDING>`, default `durable-object:BANKGATE_STORE`) or memory, JSON lines through
 * `console.log` (Workers Logs / `wrangler tail`).
 */
import { ConfigError } from '../../config/resolve-config.js';
import type { RuntimeEnv } from '../../config/secret-ref.js';
import { createLineLogger, type Logger, type LogLevel } from '../../log.js';
import type { Runtime, RuntimeStoreContext } from '../../runtime.js';
import type { StoreConfig } from '../../store/config-schema.js';
import type { ConnectionStore } from '../../store/connection.js';
import { createMemoryStore } from '../../store/memory-store.js';
import { configuredStoreKeys } from '../../store/store-keys.js';
import { createDurableObjectStore } from './do-store.js';
import { workersTransport } from './transport.js';
import { isDurableObjectNamespace, type WorkersEnv } from './workers-api.js';

export const DEFAULT_WORKERS_STORE_URL = 'durable-object:BANKGATE_STORE';

export interface WorkersRuntimeOptions {
  /** The log sink; default JSON lines through `console.log`. */
  readonly logger?: (level: LogLevel) => Logger;
}

/** The Worker env's strings: what `{ env }` references, `BANKGATE_*` settings read. */
function stringsOf(env: WorkersEnv): RuntimeEnv {
  return Object.fromEntries(Object.entries(env).filter((entry): entry is [string, string] => typeof entry[1] === 'string'));
}

/**
 * @example export default { fetch: (request, env) => … createGateway(config, { runtime: workersRuntime(env) }) … }
 */
export function workersRuntime(env: WorkersEnv, options: WorkersRuntimeOptions = {}): Runtime {
  return {
    name: 'workers',
    env: stringsOf(env),
    replicaId: `workers:${crypto.randomUUID().slice(0, 8)}`,
    now: Date.now,
    logger: options.logger ?? ((level) => createLineLogger((line) => console.log(line), level)),
    transport: workersTransport(env),
    store: (config, context) => createWorkersStore(config, context, env),
  };
}

/** Opens `durable-object:<BINDING>` (the default) or `memory`; problems as a `ConfigError` whose lines start with `store`. */
export async function createWorkersStore(config: StoreConfig, context: RuntimeStoreContext, env: WorkersEnv): Promise<ConnectionStore> {
  const url = config.url ?? (context.source.env.BANKGATE_STORE || undefined) ?? DEFAULT_WORKERS_STORE_URL;
  if (url === 'memory') return createMemoryStore();
  if (!url.startsWith('durable-object:')) {
    throw new ConfigError([`store: ${url.split(':')[0]}: is not a store the workers runtime opens (no files, no sockets); use durable-object:<BINDING> (a Durable Object namespace bound to BankgateStoreObject) or memory`]);
  }
  const binding = url.slice('durable-object:'.length);
  const namespace = env[binding];
  if (!isDurableObjectNamespace(namespace)) {
    throw new ConfigError([`store: ${binding} is not a Durable Object binding in this Worker: add durable_objects.bindings [{ name: '${binding}', class_name: 'BankgateStoreObject' }] to wrangler.jsonc and export BankgateStoreObject from the entry`]);
  }
  let keys;
  try {
    keys = await configuredStoreKeys(config, context.source);
  } catch (error) {
    throw new ConfigError([(error as Error).message]);
  }
  if (!keys) {
    throw new ConfigError(["store.encryption.key: the Durable Object store needs an encryption key: set the secret BANKGATE_STORE_KEY (wrangler secret put BANKGATE_STORE_KEY; make one with openssl rand -base64 32) or store.encryption.key ({ env: '…' })"]);
  }
  context.log.info('store.opened', { store: `durable-object:${binding}`, keyId: keys.current.id });
  return createDurableObjectStore({ namespace, keys, log: context.log });
}
