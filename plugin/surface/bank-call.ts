/**
 * The bank-call pipeline, without framing: routing, permission, spec validation, token (and the 401
 * refresh-and-retry), bank headers, the transport, bank errors as problems, metrics and the `bank.call` log
 * line. The Hono middleware (bank-routes.ts) and the Node fast path (plugin/adapter/node/) are two thin adapters
 * around it, so both run exactly this logic.
 */
import type { Span } from '@opentelemetry/api';
import { BankgateError } from '../errors/bankgate-error.js';
import type { Logger } from '../log.js';
import type { MetricsRegistry } from '../observability/metrics.js';
import type { ConsentEngine } from '../consent/engine.js';
import { connectionStorageId, type Connection } from '../store/connection.js';
import type { TokenEngine } from '../tokens/token-engine.js';
import { usableTokens } from '../tokens/usable-tokens.js';
import type { BankResponse, BankTransport } from '../transport/types.js';
import type { MessagePolicy } from '../consent/ukob/message-policy.js';
import { actsForConnection } from './acts-for-connection.js';
import { bankErrorToProblem } from './bank-error.js';
import { credentialPlanOf } from './bank-credentials.js';
import { buildBankRequest, type BankHeaderPolicy, type InboundRequest } from './bank-request.js';
import type { Caller } from './caller-auth.js';
import { rawPathOf, safePathSegments } from './path-guard.js';
import { allowsOperation } from './permissions.js';
import type { MountedRoute, RouteMatch, RouteTable } from './route-table.js';
import type { SpecValidator } from './validation/spec-validator.js';
import { BankLinkMapper, linkCounter, rewriteAnswerLinks, type LinkCounter } from './links/bank-links.js';
import type { ResolvedBank } from '../config/resolve-config.js';

/** Bank response headers that mean nothing to an internal caller, or that the runtime sets itself. */
const DROPPED_RESPONSE_HEADERS = new Set(['set-cookie', 'content-length', 'www-authenticate', 'strict-transport-security', 'alt-svc', 'server', 'x-request-id']);
const NULL_BODY_STATUS = new Set([101, 204, 205, 304]);
const IDEMPOTENT = new Set(['GET', 'HEAD', 'PUT', 'DELETE', 'OPTIONS']);

export interface BankCallOptions {
  readonly table: RouteTable;
  /** The gateway's public URL (no trailing slash): where absolute links in bank answers are pointed. */
  readonly publicUrl?: () => string;
  readonly engine: TokenEngine;
  /** What a connection's calls carry by its consent protocol (`Consent-ID`, whether a token is needed). */
  readonly consent?: Pick<ConsentEngine, 'callCredentials' | 'checkAfterRefusal' | 'spendUnattended' | 'payments' | 'checkSupported'>;
  readonly transports: ReadonlyMap<string, BankTransport>;
  readonly log: Logger;
  readonly metrics: MetricsRegistry;
  /** Per bank: static values for bank-mandated headers the gateway owns (`TPP-Redirect-URI`, …). */
  readonly headerPolicy: (bank: string) => BankHeaderPolicy;
  /** Per bank: what the gateway adds to a built request and checks on the answer (UK Open Banking signing, idempotency). */
  readonly messagePolicy?: (bank: string) => MessagePolicy | undefined;
  /** Checks requests (and, when asked, responses) against the bank's spec. */
  readonly validator?: Pick<SpecValidator, 'checkRequest' | 'checkResponse'>;
}

/** The caller's request, as any framing sees it. */
export interface InboundCall {
  /** The inbound request's correlation id (`X-Request-ID`): carried by every log line of the call. */
  readonly requestId: string;
  /** Upper-case method. */
  readonly method: string;
  /** The request target as the client sent it (path and query), before any normalisation, after the mount prefix. */
  readonly target: string;
  /** Where the gateway is mounted (`/banks`), for the links it hands out; absent or `''` at the root. */
  readonly mountPrefix?: string;
  /** A request header by (case-insensitive) name. */
  header(name: string): string | undefined;
  /**
   * The request body, at most `maxBytes` (413 `payload_too_large` past it: checked on Content-Length before
   * reading, enforced while reading); only read for operations that declare one.
   */
  body(maxBytes: number): Promise<Uint8Array>;
}

/** What the caller gets back: the bank's status and body, its headers minus the dropped ones, and `x-bank-request-id`. */
export interface BankReply {
  readonly status: number;
  readonly headers: Record<string, string | string[]>;
  /** Null for statuses that carry no body (204, 304, …). */
  readonly body: Uint8Array | null;
}

export type BankMatch = RouteMatch | { allowed: string[] } | undefined;

export interface BankCalls {
  /**
   * The declared operation at `method target`: a match, the methods the path allows (405), or nothing
   * (not a bank route). Throws `path_rejected` (400) for a path that could steer the call elsewhere.
   */
  match(method: string, target: string): BankMatch;
  /** Runs a matched call for an authenticated caller; throws `BankgateError` (or anything, for a 500). */
  call(found: RouteMatch, inbound: InboundCall, caller: Caller, span?: Span): Promise<BankReply>;
}

/** Per route, what every call would otherwise rebuild: metric series, span attributes. */
interface RouteInstruments {
  readonly duration: { observe(seconds: number): void };
  readonly byStatus: Map<number, { inc(): void }>;
  readonly spanName: string;
  readonly spanAttributes: Record<string, string>;
}

export function createBankCalls(options: BankCallOptions): BankCalls {
  const { table, engine, transports, log, metrics, validator } = options;
  metrics.describe('bankgate_requests_total', 'counter', 'Bank calls through the gateway, by bank, API, operation and the status returned to the caller.');
  metrics.describe('bankgate_request_duration_seconds', 'histogram', 'Time from receiving a bank call to answering it, by bank, API and operation.');
  const instruments = new Map<MountedRoute, RouteInstruments>();
  const instrumentsOf = (mounted: MountedRoute): RouteInstruments => {
    let found = instruments.get(mounted);
    if (!found) {
      const labels = { bank: mounted.bank.name, api: mounted.api.name, operation: mounted.route.operationId };
      found = {
        duration: metrics.histogram('bankgate_request_duration_seconds', labels),
        byStatus: new Map(),
        spanName: `${mounted.method} ${mounted.gatewayPath}`,
        spanAttributes: { 'http.route': mounted.gatewayPath, 'bankgate.bank': mounted.bank.name, 'bankgate.api': mounted.api.name, 'bankgate.operation': mounted.route.operationId },
      };
      instruments.set(mounted, found);
    }
    return found;
  };
  // Per bank, built on its first answer: the link mapper and its counters.
  const bankLinks = new Map<ResolvedBank, { mapper: BankLinkMapper; counter: LinkCounter }>();
  const linksOf = (bank: ResolvedBank) => {
    let found = bankLinks.get(bank);
    if (!found) {
      found = { mapper: new BankLinkMapper(bank, table), counter: linkCounter(metrics, bank.name) };
      bankLinks.set(bank, found);
    }
    return found;
  };
  const count = (mounted: MountedRoute, into: RouteInstruments, status: number) => {
    let counter = into.byStatus.get(status);
    if (!counter) {
      counter = metrics.counter('bankgate_requests_total', { bank: mounted.bank.name, api: mounted.api.name, operation: mounted.route.operationId, status: String(status) });
      into.byStatus.set(status, counter);
    }
    counter.inc();
  };

  return {
    match(method, target) {
      return table.match(method, safePathSegments(rawPathOf(target)));
    },

    async call(found, inbound, caller, span) {
      const { bank, api, route } = found.mounted;
      const instrumented = instrumentsOf(found.mounted);
      span?.updateName(instrumented.spanName);
      span?.setAttributes(instrumented.spanAttributes);
      const started = performance.now();
      let status = 500;
      try {
        if (!allowsOperation(caller.allow, bank.name, api.name, route.operationId)) {
          throw new BankgateError('forbidden', { status: 403, bank: bank.name, detail: `caller ${caller.id} may not use ${bank.name}/${api.name}/${route.operationId}` });
        }
        // An operation the bank's consent protocol cannot serve yet: 501, before the body, the connection or the bank.
        options.consent?.checkSupported(bank.name, api.name, { method: found.mounted.method, operationId: route.operationId, headers: route.params.header });
        const body = route.requestBody ? await inbound.body(api.requestBodyLimits?.get(route.operationId) ?? bank.transport.maxRequestBytes) : undefined;
        // The connection the call acts for, and the headers its consent puts on every call (owned by the gateway).
        const acting = await connectionOf(found, inbound, caller, engine, options.consent);
        let request = new CallRequest(inbound, queryOf(inbound.target), body, acting?.credentials.headers);
        validator?.checkRequest(found, request);
        // A read without the PSU present (no `PSU-IP-Address`, UK Open Banking: no `x-fapi-customer-ip-address`)
        // spends the consent's unattended budget, before the bank sees it.
        const psuPresent = inbound.header('psu-ip-address') !== undefined || inbound.header('x-fapi-customer-ip-address') !== undefined;
        if (acting && options.consent) await options.consent.spendUnattended(acting.connection, { method: found.mounted.method, operationId: route.operationId, headers: route.params.header }, found.params, psuPresent);

        // A payment the gateway authorises (banks.<bank>.payments): its own redirect URIs; a retried Idempotency-Key answered from the first answer.
        const paying = options.consent ? await options.consent.payments.before(found, (name) => inbound.header(name), caller.key, body, acting?.connection, inbound.requestId, inbound.mountPrefix ?? '') : undefined;
        if (paying && 'replay' in paying) {
          status = paying.replay.status;
          return { status: paying.replay.status, headers: { ...paying.replay.headers }, body: paying.replay.body };
        }
        const plan = paying?.plan;
        if (plan?.body) request = new CallRequest(inbound, request.query, plan.body, acting?.credentials.headers);

        // The token engine may send twice: once more with a refreshed token after a 401 (idempotent calls only).
        let bankRequestId = '';
        const transport = transports.get(bank.name)!;
        const basePolicy = options.headerPolicy(bank.name);
        const policy = plan ? { static: { ...basePolicy.static, ...plan.headers } } : basePolicy;
        // UK Open Banking: what the gateway signs and keys itself (x-jws-signature, x-idempotency-key, x-fapi-interaction-id).
        const messages = options.messagePolicy?.(bank.name);
        const messageCall = messages && { callerKey: caller.key, api: api.name, route, header: (name: string) => inbound.header(name) };
        const response = await callWithToken(found, inbound, engine, acting, async (bearer) => {
          const bankRequest = buildBankRequest(found, request, bearer, policy);
          bankRequestId = bankRequest.requestId;
          return transport.send(messages ? await messages.prepare(bankRequest, messageCall!) : bankRequest);
        }).catch(async (error: unknown) => {
          if (plan) await options.consent!.payments.abandon(plan);
          throw error;
        });
        status = response.status;
        // One line per call: at info when the bank refused it, at debug when it answered well (a line per
        // successful call costs a busy gateway more than the rest of its logging: BANKGATE_LOG_LEVEL=debug shows it).
        const logCall = response.status >= 400 ? log.info : log.debug;
        logCall?.call(log, 'bank.call', { requestId: inbound.requestId, bank: bank.name, api: api.name, operationId: route.operationId, status: response.status, ms: Math.round(performance.now() - started), bankRequestId });
        if (response.status >= 400) {
          if (plan) await options.consent!.payments.abandon(plan);
          // A consent the bank no longer honours (expired, revoked by the PSU): the connection says so from now on.
          if (acting?.connection.consent?.id && options.consent && (response.status === 401 || response.status === 403)) {
            const checked = await options.consent.checkAfterRefusal(acting.connection, inbound.requestId).catch(() => undefined);
            if (checked?.status === 'reconsent_required') usableTokens(checked);
          }
          const problem = bankErrorToProblem(bank.name, route.operationId, response);
          status = problem.status;
          throw problem;
        }
        if (messages) await messages.check(response, messageCall!);
        validator?.checkResponse(found, response, inbound.requestId);
        let reply: BankReply;
        if (plan) {
          // The bank initiated the payment: the gateway keeps it and tells the caller what the PSU must do.
          const body = await options.consent!.payments.after(plan, response, inbound.requestId);
          reply = toReply({ ...response, headers: { ...response.headers, 'content-type': 'application/json' }, body }, bankRequestId);
        } else reply = toReply(response, bankRequestId);
        // After validation (the bank's answer is what its spec describes), before the caller sees it.
        if (reply.body === null && reply.headers.location === undefined) return reply;
        const { mapper, counter } = linksOf(bank);
        return rewriteAnswerLinks(reply, { mapper, api, prefix: inbound.mountPrefix ?? '', counter, publicUrl: options.publicUrl });
      } catch (error) {
        status = error instanceof BankgateError ? error.status : 500;
        throw error;
      } finally {
        count(found.mounted, instrumented, status);
        instrumented.duration.observe((performance.now() - started) / 1000);
      }
    },
  };
}

/** What validation and the bank request read of the caller's request: one object per call, methods shared. */
class CallRequest implements InboundRequest {
  readonly contentType: string | undefined;

  constructor(
    private readonly inbound: InboundCall,
    readonly query: URLSearchParams,
    readonly body: Uint8Array | undefined,
    /** Lower-case header → value the gateway sets for this call (a connection's `Consent-ID`): the caller's is ignored. */
    readonly gatewayHeaders?: Readonly<Record<string, string>>,
  ) {
    this.contentType = body && inbound.header('content-type');
  }

  header(name: string): string | undefined {
    if (this.gatewayHeaders !== undefined) {
      const lower = name.toLowerCase();
      if (Object.hasOwn(this.gatewayHeaders, lower)) return this.gatewayHeaders[lower];
    }
    return this.inbound.header(name);
  }
}

/** The query of a request target; a shared empty one when there is none (nothing here writes to it). */
function queryOf(target: string): URLSearchParams {
  const at = target.indexOf('?');
  return at === -1 || at === target.length - 1 ? EMPTY_QUERY : new URLSearchParams(target.slice(at + 1));
}
const EMPTY_QUERY = new URLSearchParams();

function toReply(response: BankResponse, bankRequestId: string): BankReply {
  const headers: Record<string, string | string[]> = {};
  for (const name in response.headers) {
    if (!DROPPED_RESPONSE_HEADERS.has(name)) headers[name] = response.headers[name]!;
  }
  headers['x-bank-request-id'] = bankRequestId;
  return { status: response.status, headers, body: NULL_BODY_STATUS.has(response.status) ? null : response.body };
}

/** The connection a PSU operation acts for, with what its consent protocol puts on its calls. */
interface ActingConnection {
  readonly connection: Connection;
  readonly credentials: ReturnType<ConsentEngine['callCredentials']>;
}

async function connectionOf(found: RouteMatch, inbound: InboundCall, caller: Caller, engine: TokenEngine, consent: BankCallOptions['consent']): Promise<ActingConnection | undefined> {
  const { route, bank } = found.mounted;
  if (!actsForConnection(route, credentialPlanOf(found.mounted).token)) return undefined;
  const connectionId = inbound.header('x-connection-id');
  if (!connectionId) {
    throw new BankgateError('connection_required', { status: 400, bank: bank.name, detail: `${route.operationId} acts for a PSU: send X-Connection-Id with a connection from POST /connections` });
  }
  // Connection ids are per caller: this caller's `connectionId`, never another caller's (a payment is no connection).
  const connection = await engine.store.get(connectionStorageId(caller.key, connectionId));
  if (!connection || connection.owner !== caller.key || connection.kind === 'payment') {
    throw new BankgateError('connection_not_found', { status: 404, detail: `connection ${connectionId.slice(0, 128)} does not exist` });
  }
  if (connection.bank !== bank.name) {
    throw new BankgateError('connection_bank_mismatch', { status: 409, bank: bank.name, detail: `connection ${connection.id} is with bank ${connection.bank}, not ${bank.name}` });
  }
  const facts = { method: found.mounted.method, operationId: route.operationId, headers: route.params.header };
  return { connection, credentials: consent?.callCredentials(connection, facts) ?? { headers: {}, token: 'required' } };
}

async function callWithToken(found: RouteMatch, inbound: InboundCall, engine: TokenEngine, acting: ActingConnection | undefined, send: (bearer: string | undefined) => Promise<BankResponse>): Promise<BankResponse> {
  const { bank } = found.mounted;
  const idempotent = IDEMPOTENT.has(inbound.method.toUpperCase());
  // The token the operation takes: its manifest's, or what config says (a static credential, the Authorization default).
  const plan = credentialPlanOf(found.mounted);
  // An operation without a token of its own that acts for a connection (its consent's headers) goes on below.
  if (plan.token === 'none' && !acting) return send(undefined);
  // `return await`: an async function returning a promise costs two more microtask turns than awaiting it.
  if (plan.token === 'client') return await engine.callWithClientToken(bank.name, plan.scopes, idempotent, send, inbound.requestId);
  const { connection, credentials } = acting!;
  // A consent that needs no token (Berlin Group without OAuth): the connection's consent is what authorises the call.
  if (plan.token === 'none' || credentials.token === 'none' || (credentials.token === 'optional' && !connection.tokens)) {
    if (connection.status !== 'active') usableTokens(connection);
    return send(undefined);
  }
  return await engine.callWithPsuToken(connection, idempotent, send, inbound.requestId);
}
