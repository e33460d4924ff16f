/**
 * What a runtime supplies to the portable core. The core (`bankgate`) touches Web APIs only (`fetch`,
 * `crypto.subtle`, `URL`, `TextEncoder`, `AbortSignal`); everything that differs between Node, Workers, Deno
 * and Bun comes through this one interface, from the runtime's adapter (`bankgate/node` → `nodeRuntime()`),
 * chosen by the entry point the application imports, never by sniffing the runtime.
 *
 * | member | Node (`nodeRuntime()`) |
 * | --- | --- |
 * | `env`, `files` | `process.env`; `node:fs` (relative paths from the working directory) |
 * | `transport` | undici with the QWAC (PEM or PKCS#12), pinned CA, hot certificate rotation |
 * | `store` | `file:` (default), `redis://`, `memory` |
 * | `logger` | pino, JSON lines on stderr |
 * | `replicaId`, `now` | `host:pid`, `Date.now` |
 * | `decryptPrivateKey`, `docsScript` | `node:crypto`; the Scalar bundle from `node_modules` |
 */
import type { ConfigSource } from './config/resolve-config.js';
import type { ProblemCollector } from './config/secret-ref.js';
import { BankgateError } from './errors/bankgate-error.js';
import type { Logger, LogLevel } from './log.js';
import type { MetricsRegistry } from './observability/metrics.js';
import type { StoreConfig } from './store/config-schema.js';
import type { ConnectionStore } from './store/connection.js';
import type { MtlsConfig, TransportConfig } from './transport/config-schema.js';
import type { ResolvedSigning } from './transport/signing-options.js';
import type { BankTransport } from './transport/types.js';

export type { RuntimeEnv, RuntimeFiles } from './config/secret-ref.js';

export interface Runtime extends ConfigSource {
  /** `node`, `workers`, `deno`, `bun`: named in messages (e.g. why a `{ file }` reference cannot be read). */
  readonly name: string;
  /** Names this process among the gateway's replicas in refresh-lock owners (`host:pid`); the core adds a random suffix. */
  readonly replicaId: string;
  /** The clock, epoch milliseconds. Default `Date.now`. */
  readonly now?: () => number;
  /** The log sink at `level` (`BANKGATE_LOG_LEVEL`); it applies the core's redaction (`scrub` in `log.ts`). */
  logger(level: LogLevel): Logger;
  /**
   * A transport presenting one client identity: a bank's `mtls`, or an API's override. Reads and checks the
   * TLS material at start; records each problem under its path in `context.problems` and returns undefined
   * rather than throwing, so that every problem of every bank is reported together. A runtime that cannot
   * present the configured certificate records that, never a transport without it. The core adds per-API
   * routing, retries and the circuit breaker around what this returns.
   */
  transport(request: IdentityTransportRequest, context: RuntimeTransportContext): IdentityTransport | undefined | Promise<IdentityTransport | undefined>;
  /** The connection store `store` (or `BANKGATE_STORE`) names; config problems are thrown as a `ConfigError` whose lines start with `store`. */
  store(config: StoreConfig, context: RuntimeStoreContext): Promise<ConnectionStore>;
  /** The Scalar bundle served at `/docs/scalar.js`. Absent: the gateway serves no `/docs`. */
  docsScript?(): Promise<string>;
}

/** One client identity's transport, as the core asks a runtime for it. */
export interface IdentityTransportRequest {
  readonly bank: string;
  /** Config path of the mtls block (`banks.sg.mtls`, `banks.sg.apis.pisp.mtls`): every problem starts with it. */
  readonly at: string;
  readonly mtls: MtlsConfig;
  /** `banks.<bank>.transport`, defaults applied (timeouts, size limit, keep-alive, compression; retries and breaker are the core's). */
  readonly settings: TransportConfig;
  /** The bank's request signing (a WebCrypto key), applied by the transport to every `send()`. */
  readonly signing?: ResolvedSigning;
  /** Metric labels of this identity: `{ bank }`, or `{ bank, api }` for an override. */
  readonly labels: Readonly<Record<string, string>>;
}

export interface RuntimeTransportContext {
  readonly metrics: MetricsRegistry;
  readonly log: Logger;
  /** Where problems go; `problems.source` reads `{ env }` / `{ file }` references as the core does. */
  readonly problems: ProblemCollector;
  readonly now: () => number;
}

/** A transport that may re-read its certificate on demand (what a file change triggers on Node). */
export interface IdentityTransport extends BankTransport {
  reloadCertificates?(): Promise<void>;
}

export interface RuntimeStoreContext {
  readonly log: Logger;
  /** The environment in force (`BANKGATE_STORE`, `BANKGATE_STORE_KEY`) and the reader of `store.encryption` references. */
  readonly source: ConfigSource;
}

/**
 * Narrows what `createGateway` got to a runtime, or throws `config_invalid` saying which import supplies one.
 */
export function requireRuntime(runtime: Runtime | undefined): Runtime {
  if (runtime && typeof runtime.transport === 'function' && typeof runtime.store === 'function' && typeof runtime.logger === 'function') return runtime;
  throw new BankgateError('config_invalid', {
    status: 500,
    detail:
      "createGateway needs a runtime: on Node, import { createGateway } from 'bankgate/node' (it supplies nodeRuntime()), " +
      "or pass { runtime: nodeRuntime() } from 'bankgate/node'; another runtime passes its adapter's runtime",
  });
}
