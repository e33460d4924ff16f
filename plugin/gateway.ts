import type { TracerProvider } from '@opentelemetry/api';
import { Hono, type Context } from 'hono';
import type { JWTVerifyGetKey } from 'jose';
import type { ConfigInput } from './config/define-config.js';
import { collectConfig, ConfigError, type ResolvedBank, type ResolvedConfig } from './config/resolve-config.js';
import { ProblemCollector, type RuntimeEnv } from './config/secret-ref.js';
import { randomToken } from './crypto/random.js';
import { BankgateError } from './errors/bankgate-error.js';
import { logLevelFrom, type Logger } from './log.js';
import { MetricsRegistry } from './observability/metrics.js';
import { serverSpanStarter, tracing } from './observability/tracing.js';
import { requireRuntime, type Runtime } from './runtime.js';
import type { ConnectionStore } from './store/connection.js';
import { createBankCalls, type BankCalls } from './surface/bank-call.js';
import { bankRoutes } from './surface/bank-routes.js';
import { createCallerAuthenticator, type Authenticate, type CallerAuthVariables } from './surface/caller-auth.js';
import { createConsentEngine } from './consent/engine.js';
import { hostCallerOf, type HostCallerHook } from './surface/host-caller.js';
import { checkBasePath, mountPrefix, type MountPrefixVariables } from './surface/mount-prefix.js';
import { callbackRoute, connectionRoutes } from './surface/connection-routes.js';
import { docsRoutes } from './surface/docs-routes.js';
import { documentRoutes } from './surface/document-routes.js';
import { problemReply, problemResponse } from './surface/problem.js';
import { RouteTable } from './surface/route-table.js';
import { requestId, type RequestIdVariables } from './surface/request-id.js';
import { ajvCompiler, createSpecValidator, precompiledCompiler } from './surface/validation/spec-validator.js';
import { createTokenEngine, type TokenEngine } from './tokens/token-engine.js';
import { createBankTransport } from './transport/bank-transport.js';
import { senderConstrainedTransport } from './oauth/dpop-transport.js';
import { messagePolicyOf } from './consent/ukob/message-policy.js';
import type { BankTransport } from './transport/types.js';
import type { ApiManifest } from './manifest/types.js';

export interface GatewayOptions {
  /**
   * What the runtime supplies: transports, the store, the log sink, the environment (see runtime.ts).
   * Required here; `createGateway` from `bankgate/node` passes `nodeRuntime()`.
   */
  readonly runtime?: Runtime;
  /** Public base URL for OAuth redirects; default `config.publicUrl`, else `http://127.0.0.1:$PORT`. A function is read when a consent starts. */
  readonly publicUrl?: string | (() => string);
  /** One transport per bank, instead of the runtime's (tests inject one here). */
  readonly transport?: (bank: ResolvedBank, context: { metrics: MetricsRegistry; log: Logger }) => BankTransport | Promise<BankTransport>;
  /** The connection store, instead of the one the runtime opens for `store` / `BANKGATE_STORE`. */
  readonly store?: ConnectionStore;
  /** The log sink, instead of the runtime's. */
  readonly log?: Logger;
  /** The clock, instead of the runtime's. */
  readonly now?: () => number;
  /** The environment, instead of the runtime's (`runtime.env`). */
  readonly env?: RuntimeEnv;
  /** Where the engines count; served at `GET /metrics`. */
  readonly metrics?: MetricsRegistry;
  /** Overrides the JWKS lookup of `callers.jwt` (a key set already in memory). */
  readonly jwks?: JWTVerifyGetKey;
  /** OpenTelemetry tracer provider; default: the global one (a no-op until an SDK is registered). */
  readonly tracerProvider?: TracerProvider;
  /**
   * Serve the whole surface under this prefix (`/banks`) when the gateway is served on its own. A host app that
   * mounts the gateway (`host.route('/banks', gateway.app)`) needs nothing here: the prefix is read per request.
   */
  readonly basePath?: string;
  /**
   * A host app that authenticates callers itself hands bankgate the caller here (see host-caller.ts): return
   * `{ id, allow }` for the request, or `undefined` to leave it to bankgate's own keys and JWTs.
   */
  readonly hostCaller?: HostCallerHook;
}

export interface Gateway {
  /** The whole surface as a Hono app: mount it (`app.route('/', gateway.app)`) or serve it. */
  readonly app: Hono;
  readonly config: ResolvedConfig;
  readonly engine: TokenEngine;
  readonly routes: RouteTable;
  readonly metrics: MetricsRegistry;
  /** The dev caller's key, when there is one. */
  readonly devKey?: string;
  /** True when no key was configured and one was generated: print it at start. */
  readonly devKeyGenerated: boolean;
  /** The framing-free pipeline the Hono app is built from; the Node fast path (`bankgate/node`) serves bank calls with it. */
  readonly pipeline: GatewayPipeline;
  /** The `basePath` option, checked (`''` when served at the root or mounted by a host). */
  readonly basePath: string;
  /** True when a host app authenticates callers (`hostCaller`): every request then goes through the Hono app. */
  readonly hostCallers: boolean;
  /**
   * Stops gracefully: refreshes in flight finish and their token sets are stored (bounded by
   * `DRAIN_TIMEOUT_MS`, 25 s), no new refresh starts meanwhile (503, retryable), then the transports and the
   * store close. Stop serving new requests first (`server.close()`), then call this.
   */
  close(): Promise<void>;
}

/** The pieces of one request's pipeline, shared by every framing so that none forks the logic. */
export interface GatewayPipeline {
  readonly bankCalls: BankCalls;
  readonly authenticate: Authenticate;
  readonly startSpan: ReturnType<typeof serverSpanStarter>;
  readonly log: Logger;
}

/**
 * Builds the gateway from `hono.config.ts` on a runtime: validates the config (once), creates one transport
 * per bank through the runtime (every problem of the config and of the banks' certificates reported
 * together, each under its path), opens the store, and builds the token engine and the Hono surface.
 * Without `options.runtime`, throws `config_invalid` naming the import that supplies one.
 * @example
 *   import { createGateway, createNodeHandler } from 'bankgate/node';   // Node: nodeRuntime() by default
 *   const gateway = await createGateway(config);
 *   http.createServer(createNodeHandler(gateway)).listen(3000);          // bank calls on the Node fast path
 *   // elsewhere: createGateway(config, { runtime }) from 'bankgate', then serve gateway.app.fetch
 */
export async function createGateway(input: ConfigInput | ResolvedConfig, options: GatewayOptions = {}): Promise<Gateway> {
  const runtime = requireRuntime(options.runtime);
  const basePath = checkBasePath(options.basePath);
  const env = options.env ?? runtime.env;
  const source = { name: runtime.name, env, ...(runtime.files ? { files: runtime.files } : {}), ...(runtime.decryptPrivateKey ? { decryptPrivateKey: runtime.decryptPrivateKey } : {}) };
  const now = options.now ?? runtime.now ?? Date.now;
  const log = options.log ?? runtime.logger(logLevelFrom(env.BANKGATE_LOG_LEVEL));
  const metrics = options.metrics ?? new MetricsRegistry();
  const problems = new ProblemCollector(source);
  const config = isResolved(input) ? input : await collectConfig(input, problems, source);
  const transports = new Map<string, BankTransport>();
  const closeTransports = () => Promise.all([...transports.values()].map((t) => t.close()));
  for (const bank of config.banks.values()) {
    const transport = options.transport ? await options.transport(bank, { metrics, log }) : await createBankTransport(bank, runtime, { metrics, log, problems, now });
    // A DPoP bank's calls carry `Authorization: DPoP` and a proof (banks.<bank>.senderConstraint).
    if (transport) transports.set(bank.name, senderConstrainedTransport(bank, transport));
  }
  if (problems.problems.length > 0) {
    await closeTransports();
    throw new ConfigError(problems.problems);
  }
  let store: ConnectionStore;
  try {
    store = options.store ?? (await runtime.store(config.store, { log, source }));
  } catch (error) {
    await closeTransports();
    throw error;
  }
  const engine = createTokenEngine({ banks: config.banks, transports, store, log, metrics, now, refreshLockTtlMs: config.store.lockTtlSeconds * 1000, handoverWaitMs: config.store.handoverWaitSeconds * 1000, replicaId: runtime.replicaId });
  const routes = new RouteTable(config.banks);
  // A dev key is generated only when nothing else authenticates callers (no keys, no JWT issuer).
  const devKeyGenerated = config.devKey === undefined && config.callers.keys.length === 0 && !config.callers.jwt;
  const devKey = config.devKey ?? (devKeyGenerated ? randomToken(24) : undefined);
  const publicUrl = (): string => {
    const value = typeof options.publicUrl === 'function' ? options.publicUrl() : options.publicUrl ?? config.publicUrl ?? `http://127.0.0.1:${env.PORT ?? 3000}`;
    return value.replace(/\/$/, '');
  };

  const consent = createConsentEngine({ banks: config.banks, transports, table: routes, tokens: engine, store, log, now, publicUrl, returnToOrigins: config.returnToOrigins });

  const authenticate = createCallerAuthenticator({ callers: config.callers, devKey, jwks: options.jwks });
  const documents = new Map([...config.banks.values()].flatMap((bank) => [...bank.apis.values()].flatMap((api) => (api.document ? [[`${bank.name}/${api.name}`, api.document as Record<string, unknown>] as const] : []))));
  // Validators compiled at generate time where configured (the only ones a runtime without code generation has).
  const precompiled = new Map([...config.banks.values()].flatMap((bank) => [...bank.apis.values()].flatMap((api) => (api.document && api.validators ? [[`${bank.name}/${api.name}`, api.validators.validators] as const] : []))));
  const compiler = precompiledCompiler(precompiled, ajvCompiler(documents));
  const validator = config.validation.requests || config.validation.responses !== 'off' ? createSpecValidator({ documents, responses: config.validation.responses, log, metrics, compiler }) : undefined;
  const messagePolicies = new Map([...config.banks.values()].flatMap((bank) => {
    const policy = messagePolicyOf(bank, transports.get(bank.name)!, now);
    return policy ? [[bank.name, policy] as const] : [];
  }));
  const headerPolicies = new Map([...config.banks.values()].map((bank) => [bank.name, { static: bank.headers }]));
  const bankCalls = createBankCalls({ table: routes, publicUrl, engine, consent, transports, log, metrics, validator: validator && (config.validation.requests ? validator : { checkRequest() {}, checkResponse: validator.checkResponse }), headerPolicy: (bank) => headerPolicies.get(bank)!, messagePolicy: (bank) => messagePolicies.get(bank) });
  const tracingOptions = { serviceName: 'bankgate', ...(options.tracerProvider ? { tracerProvider: options.tracerProvider } : {}) };
  const pipeline: GatewayPipeline = { bankCalls, authenticate, startSpan: serverSpanStarter(tracingOptions), log };

  const app = new Hono<{ Variables: CallerAuthVariables & RequestIdVariables & MountPrefixVariables }>();
  app.onError((error, c) => {
    const reply = problemReply(error, c.req.path, log, c.get('requestId') as string | undefined);
    return new Response(reply.body, { status: reply.status, headers: reply.headers });
  });
  const notFound = (c: Context) => problemResponse(new BankgateError('route_not_found', { status: 404, detail: `no declared operation at ${c.req.method} ${c.req.path.slice(0, 200)}; see GET ${c.get('mountPrefix') ?? basePath}/openapi.json` }), c.req.path);
  app.notFound(notFound);
  // After onError/notFound: a basePath app is a copy of the app as it is then.
  const surface = basePath ? app.basePath(basePath) : app;

  surface.use('*', mountPrefix());
  surface.use('*', requestId());
  surface.use('*', tracing(tracingOptions));
  surface.get('/healthz', (c) => c.json({ status: 'ok', banks: [...config.banks.keys()] }));
  // Operations the bank's consent protocol cannot serve yet (they answer 501) are left out of the document.
  const served = (bank: string, manifest: ApiManifest): ApiManifest => ({ ...manifest, routes: manifest.routes.filter((route) => consent.supports(bank, { method: route.method, operationId: route.operationId, headers: route.params.header })) });
  const surfaceApis = [...config.banks.values()].flatMap((bank) => [...bank.apis.values()].map((api) => ({ bank: bank.name, api: api.name, title: `${bank.displayName}: ${api.manifest.title}`, manifest: served(bank.name, api.manifest), document: api.document })));
  const documentedBanks = [...config.banks.values()].map((bank) => ({ name: bank.name, displayName: bank.displayName, apis: surfaceApis.filter((api) => api.bank === bank.name) }));
  surface.route('/', documentRoutes({ banks: documentedBanks, serverUrl: publicUrl }));
  if (runtime.docsScript) surface.route('/', docsRoutes({ title: 'bankgate: bank APIs', banks: documentedBanks, script: runtime.docsScript.bind(runtime) }));
  else {
    // A runtime that cannot read the Scalar bundle serves no docs page (no CDN): say so rather than 401/404.
    surface.get('/docs', (c) => problemResponse(new BankgateError('route_not_found', { status: 404, detail: `the ${runtime.name} runtime serves no /docs (it supplies no Scalar bundle); the API is described at GET ${c.get('mountPrefix')}/openapi.json` }), c.req.path));
  }
  surface.get('/metrics', (c) => c.text(metrics.render(), 200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' }));
  surface.route('/', callbackRoute(consent));
  const hostCaller = options.hostCaller;
  surface.use('*', async function bankgateCallerAuth(c, next) {
    const hosted = hostCaller && (await hostCaller(c));
    c.set('caller', hosted ? hostCallerOf(hosted) : await authenticate(c.req.header('authorization')));
    return next();
  });
  surface.route('/', connectionRoutes(engine, consent));
  surface.use('*', bankRoutes({ calls: bankCalls }));
  // Mounted under a host's prefix, the host's notFound would answer: under the prefix, a 404 is bankgate's.
  surface.all('*', notFound);

  return {
    app: app as unknown as Hono,
    config,
    engine,
    routes,
    metrics,
    devKey,
    devKeyGenerated,
    pipeline,
    basePath,
    hostCallers: hostCaller !== undefined,
    async close() {
      // Graceful: refreshes in flight finish and are stored before the transports and the store close (a cut-off
      // refresh of a rotating bank loses the connection); new ones are refused meanwhile (503, retryable).
      const drain = await engine.drain();
      if (drain.drained) log.info('gateway.drained', { ms: drain.ms });
      else log.error('gateway.drain_timeout', { ms: drain.ms, refreshesLeft: drain.left, detail: 'refreshes still in flight were cut off by the stop; their connections may need a new consent' });
      await Promise.all([...transports.values()].map((t) => t.close()));
      await store.close();
    },
  };
}

function isResolved(input: ConfigInput | ResolvedConfig): input is ResolvedConfig {
  return typeof input === 'object' && input !== null && (input as ResolvedConfig).banks instanceof Map;
}
