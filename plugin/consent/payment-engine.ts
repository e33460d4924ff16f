/**
 * Payments authorised through the gateway (`banks.<bank>.payments`): around the caller's own initiation call (e.g.
 * `POST /bg/xs2a/v1/payments/sepa-credit-transfers`) the gateway
 *   - before the bank: reserves the caller's `Idempotency-Key` (a store lock, atomic across replicas: a retry never
 *     reaches the bank a second time; it is answered with the first answer) and adds what it owns in the initiation
 *     (the bank's redirect URIs pointing at its own callback, carrying the payment's `state`);
 *   - after the bank's 2xx: keeps the payment (a store record of kind `payment`, never addressable as a connection)
 *     and adds the PSU's `nextAction` to the answer;
 *   - at the callback (or a poll / PSU data): runs the payment protocol's next step, and once authorised reads the
 *     transaction status.
 * The payment's status stays readable through the bank's own `GET …/status` operation, through the gateway.
 */
import type { ResolvedBank } from '../config/resolve-config.js';
import { toHex } from '../crypto/base64.js';
import { randomToken } from '../crypto/random.js';
import { BankgateError } from '../errors/bankgate-error.js';
import type { Logger } from '../log.js';
import { connectionStorageId, storageIdOf, type Connection, type ConnectionStore } from '../store/connection.js';
import type { RouteMatch } from '../surface/route-table.js';
import { updateConnection } from '../tokens/update-connection.js';
import type { BankResponse } from '../transport/types.js';
import { FINAL_TRANSACTION_STATUSES } from './berlin-group/messages.js';
import { berlinGroupPayments } from './berlin-group/payments.js';
import { stetPayments } from './stet/payments.js';
import type { PaymentProtocol, PaymentRecord, PaymentStep } from './payment-protocol.js';
import type { ConsentContext, ContinueInput, NextAction, OperationResponse, PsuContext } from './protocol.js';

const PROTOCOLS: ReadonlyMap<string, PaymentProtocol> = new Map([berlinGroupPayments, stetPayments].map((protocol) => [protocol.name, protocol]));
/** How long an `Idempotency-Key` is remembered. */
const IDEMPOTENCY_MS = 24 * 3600_000;
const CLAIM_MS = 60_000;

/** What the gateway does around one payment initiation. */
export interface PaymentPlan {
  readonly bank: ResolvedBank;
  readonly protocol: PaymentProtocol;
  readonly recordId: string;
  readonly state: string;
  /** Lower-case owned headers to send (`tpp-redirect-uri`, …). */
  readonly headers: Readonly<Record<string, string>>;
  /** The body to send instead of the caller's (STET: the report URLs point at the gateway). */
  readonly body?: Uint8Array;
  readonly owner: string;
  readonly api: string;
  readonly operationId: string;
  readonly params: Readonly<Record<string, string>>;
  readonly psu: PsuContext;
  readonly lock?: { readonly name: string; readonly owner: string };
  /** The mount prefix of the initiating request: the payment's redirect URIs carry it. */
  readonly mountPrefix: string;
  /** The connection the initiation was made for (its token signs the SCA steps where the bank wants it). */
  readonly connection?: Connection;
}

/** A stored first answer to a retried `Idempotency-Key`. */
export interface PaymentReplay {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: Uint8Array;
}

export interface PaymentEngine {
  /** For a payment initiation: the plan, or the first answer when this is a retry of an `Idempotency-Key`. */
  before(found: RouteMatch, header: (name: string) => string | undefined, owner: string, body: Uint8Array | undefined, connection: Connection | undefined, requestId?: string, mountPrefix?: string): Promise<{ plan: PaymentPlan } | { replay: PaymentReplay } | undefined>;
  /** The bank answered the initiation: keeps the payment, returns the body to answer (with `nextAction`). */
  after(plan: PaymentPlan, response: BankResponse, requestId?: string): Promise<Uint8Array>;
  /** The bank did not initiate the payment: the `Idempotency-Key` may be used again. */
  abandon(plan: PaymentPlan): Promise<void>;
  /** The PSU's browser back at the callback for a payment record (found by its `state`). */
  complete(record: Connection, url: URL, requestId?: string): Promise<Connection>;
  /**
   * `GET /payments/{id}`: a running decoupled SCA is polled at the bank (at most once per `pollAfterMs`), an authorised
   * payment's status read again until it is final (at most once per the bank's `pollIntervalMs`).
   */
  refresh(record: Connection, requestId?: string): Promise<Connection>;
}

export interface PaymentEngineOptions {
  readonly store: ConnectionStore;
  readonly now: () => number;
  readonly log: Logger;
  readonly windowSeconds?: number;
  /** What a protocol step gets for one bank, acting for a connection (consent engine's). */
  /** The protocol's context; `mountPrefix` goes into the redirect URIs (the gateway's callback under its prefix). */
  readonly contextOf: (bank: ResolvedBank, connection: Connection | undefined, requestId: string | undefined, mountPrefix: string) => ConsentContext;
  readonly banks: ReadonlyMap<string, ResolvedBank>;
}

export function createPaymentEngine(options: PaymentEngineOptions): PaymentEngine {
  const { store, now } = options;

  const recordIdOf = async (owner: string, bank: string, key: string) => {
    const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(`${owner}\u0000${bank}\u0000${key}`)));
    return `payment.${toHex(digest).slice(0, 40)}`;
  };

  const storedAnswer = (record: Connection): PaymentReplay | undefined => {
    const reply = record.payment?.reply;
    if (!reply) return undefined;
    return { status: reply.status, headers: { 'content-type': reply.contentType ?? 'application/json', 'x-bankgate-idempotent-replay': 'true' }, body: new TextEncoder().encode(reply.body) };
  };

  /** Writes a step's outcome on the payment record that still holds `claimId`. */
  const apply = async (record: Connection, claimId: string, step: PaymentStep, transactionStatus?: { transactionStatus: string; final: boolean }) =>
    updateConnection(store, storageIdOf(record), (latest) => {
      if (latest.pending?.stepClaim?.id !== claimId || !latest.payment) return undefined;
      const payment: PaymentRecord = {
        ...latest.payment,
        session: step.session,
        authorisation: step.outcome === 'pending' ? 'pending' : step.outcome === 'authorised' ? 'authorised' : 'failed',
        ...(step.outcome === 'failed' ? { reason: step.reason } : {}),
        ...(transactionStatus ? { transactionStatus: transactionStatus.transactionStatus, final: transactionStatus.final } : {}),
      };
      if (step.outcome === 'pending') {
        const { codeVerifier: _v, nonce: _n, redirectUri: _r, stepClaim: _c, ...kept } = latest.pending;
        return { ...latest, payment, updatedAt: now(), pending: { ...kept, session: step.session, nextAction: step.nextAction, ...(step.oauth ?? {}) } };
      }
      return { ...latest, payment, status: step.outcome === 'authorised' ? 'active' : 'failed', pending: undefined, updatedAt: now() };
    });

  return {
    async before(found, header, owner, body, connection, requestId, mountPrefix = '') {
      const { bank, api, route } = found.mounted;
      const config = bank.payments;
      if (!config || !config.operations.includes(route.operationId)) return undefined;
      const protocol = PROTOCOLS.get(config.protocol);
      if (!protocol) return undefined;
      const key = header('idempotency-key');
      let recordId = `payment.${randomToken(15)}`;
      let lock: PaymentPlan['lock'];
      if (key !== undefined) {
        if (!/^[\x21-\x7e]{1,128}$/.test(key)) throw new BankgateError('bad_request', { status: 400, bank: bank.name, detail: 'Idempotency-Key must be 1–128 printable ASCII characters' });
        recordId = await recordIdOf(owner, bank.name, key);
        lock = { name: `idempotency:${recordId}`, owner: randomToken(9) };
        if (!(await store.acquireLock(lock.name, lock.owner, IDEMPOTENCY_MS))) {
          const first = await store.get(connectionStorageId(owner, recordId));
          const replay = first && first.owner === owner ? storedAnswer(first) : undefined;
          if (replay) return { replay };
          throw new BankgateError('idempotency_key_reused', { status: 409, bank: bank.name, detail: 'a payment with this Idempotency-Key is being initiated right now; retry in a moment to get its answer' });
        }
      }
      const state = randomToken(24);
      const psu: PsuContext = { ...(header('psu-ip-address') ? { ipAddress: header('psu-ip-address')! } : {}), ...(header('psu-id') ? { id: header('psu-id')! } : {}) };
      let prepared;
      try {
        prepared = protocol.prepare(options.contextOf(bank, undefined, requestId, mountPrefix), { operationId: route.operationId, api: api.name, params: found.params, state, psu, body: body ? parseJson(body) : undefined });
      } catch (error) {
        if (lock) await store.releaseLock(lock.name, lock.owner).catch(() => false);
        throw error;
      }
      const replaced = prepared.body === undefined ? undefined : new TextEncoder().encode(JSON.stringify(prepared.body));
      return { plan: { bank, protocol, recordId, state, headers: prepared.headers, ...(replaced ? { body: replaced } : {}), owner, api: api.name, operationId: route.operationId, params: found.params, psu, mountPrefix, ...(lock ? { lock } : {}), ...(connection ? { connection } : {}) } };
    },

    async abandon(plan) {
      if (plan.lock) await store.releaseLock(plan.lock.name, plan.lock.owner).catch(() => false);
    },

    async after(plan, response, requestId) {
      const context = options.contextOf(plan.bank, actingFor(plan.bank, plan.connection), requestId, plan.mountPrefix);
      const operation: OperationResponse = { operationId: plan.operationId, status: response.status, headers: response.headers, json: parseJson(response.body), response };
      const request = { operationId: plan.operationId, api: plan.api, params: plan.params, state: plan.state, psu: plan.psu, body: undefined };
      const { record, step } = await plan.protocol.initiated(context, { request, response: operation });
      const at = now();
      const nextAction: NextAction | undefined = step.outcome === 'pending' ? step.nextAction : undefined;
      // `bankgatePaymentId`: where the caller follows the authorisation (`GET /payments/{id}`, `POST …/psu-data`).
      const body = operation.json !== null && typeof operation.json === 'object' && !Array.isArray(operation.json) ? { ...(operation.json as Record<string, unknown>), ...(nextAction ? { nextAction } : {}), bankgatePaymentId: plan.recordId } : operation.json;
      const text = JSON.stringify(body);
      const payment: PaymentRecord = {
        ...record,
        session: step.session,
        authorisation: step.outcome === 'pending' ? 'pending' : step.outcome === 'authorised' ? 'authorised' : 'failed',
        final: false,
        reply: { status: response.status, body: text, contentType: 'application/json' },
        ...(plan.connection ? { connectionId: plan.connection.id } : {}),
      };
      const stored: Connection = {
        id: plan.recordId,
        kind: 'payment',
        bank: plan.bank.name,
        owner: plan.owner,
        status: step.outcome === 'pending' ? 'pending' : step.outcome === 'authorised' ? 'active' : 'failed',
        scopes: [],
        createdAt: at,
        updatedAt: at,
        payment,
        ...(step.outcome === 'pending'
          ? { pending: { state: plan.state, expiresAt: at + (options.windowSeconds ?? 900) * 1000, session: step.session, nextAction: step.outcome === 'pending' ? step.nextAction : undefined, mountPrefix: plan.mountPrefix, ...(step.oauth ?? {}) } }
          : {}),
      };
      // Created only if absent: a record under this id (the same Idempotency-Key, its lock expired) is never overwritten.
      if (!(await store.create(stored))) throw new BankgateError('idempotency_key_reused', { status: 409, bank: plan.bank.name, detail: 'a payment with this Idempotency-Key was initiated before; use a new key for a new payment' });
      context.log.info('payment.initiated', { bank: plan.bank.name, payment: plan.recordId, ...(nextAction ? { nextAction: nextAction.type } : {}) });
      return new TextEncoder().encode(text);
    },

    async complete(record, url, requestId) {
      const context = await contextFor(record, requestId);
      const done = await runStep(record, { kind: 'callback', url }, context, {});
      if (!done) throw new BankgateError('consent_in_progress', { status: 409, bank: record.bank, detail: "this payment's authorisation step is already being processed, or was" });
      return done;
    },

    async refresh(record, requestId) {
      const pending = record.pending;
      const at = now();
      if (pending?.nextAction?.type === 'decoupled') {
        if (at - (pending.polledAt ?? 0) < pending.nextAction.pollAfterMs) return record;
        return (await runStep(record, { kind: 'poll' }, await contextFor(record, requestId), { polledAt: at }).catch(() => undefined)) ?? (await store.get(storageIdOf(record))) ?? record;
      }
      const payment = record.payment;
      if (!payment || payment.authorisation !== 'authorised' || payment.final || at - (payment.checkedAt ?? 0) < 1000) return record;
      const protocol = PROTOCOLS.get(payment.protocol)!;
      const status = await protocol.status(await contextFor(record, requestId), payment).catch(() => undefined);
      if (!status) return record;
      return (
        (await updateConnection(store, storageIdOf(record), (latest) =>
          latest.payment ? { ...latest, payment: { ...latest.payment, transactionStatus: status.transactionStatus, final: status.final, checkedAt: at } } : undefined,
        )) ?? record
      );
    },
  };

  /** The context for a payment's steps: acting for its connection where the bank signs SCA steps with its token. */
  async function contextFor(record: Connection, requestId: string | undefined): Promise<ConsentContext> {
    const bank = options.banks.get(record.bank)!;
    const connectionId = record.payment?.connectionId;
    const connection = connectionId ? await store.get(connectionStorageId(record.owner, connectionId)) : undefined;
    return options.contextOf(bank, actingFor(bank, connection), requestId, record.pending?.mountPrefix ?? '');
  }

  /** Claims the record's pending step, runs it and writes the outcome; undefined when another delivery holds it. */
  async function runStep(record: Connection, input: ContinueInput, context: ConsentContext, extra: Partial<NonNullable<Connection['pending']>>): Promise<Connection | undefined> {
      const pending = record.pending;
      if (!pending || !record.payment) throw new BankgateError('consent_failed', { status: 400, bank: record.bank, detail: 'unknown or already used state' });
      const claimId = randomToken(9);
      const at = now();
      const claimed = await updateConnection(store, storageIdOf(record), (latest) =>
        latest.pending?.state === pending.state && !(latest.pending.stepClaim && latest.pending.stepClaim.until > at) ? { ...latest, pending: { ...latest.pending, ...extra, stepClaim: { id: claimId, until: at + CLAIM_MS } } } : undefined,
      );
      if (!claimed) return undefined;
      const protocol = PROTOCOLS.get(record.payment.protocol)!;
      const oauth = pending.codeVerifier && pending.redirectUri ? { codeVerifier: pending.codeVerifier, redirectUri: pending.redirectUri, ...(pending.nonce ? { nonce: pending.nonce } : {}) } : undefined;
      let step: PaymentStep;
      try {
        step = await protocol.continue(context, { ...record.payment, session: pending.session ?? {}, state: pending.state, ...(oauth ? { oauth } : {}) }, input);
      } catch (error) {
        const failure = error instanceof BankgateError ? error : new BankgateError('consent_failed', { status: 502, bank: record.bank, detail: error instanceof Error ? error.message : String(error) });
        if (input.kind === 'poll') {
          // A bank's hiccup on a poll: the next poll tries again.
          await updateConnection(store, storageIdOf(record), (latest) => (latest.pending?.stepClaim?.id === claimId ? { ...latest, pending: { ...latest.pending, stepClaim: undefined } } : undefined));
          throw failure;
        }
        await apply(record, claimId, { outcome: 'failed', reason: { code: failure.code, detail: failure.message.slice(0, 500) }, session: pending.session ?? {} });
        throw failure;
      }
      const known = step.outcome !== 'pending' && step.transactionStatus ? { transactionStatus: step.transactionStatus, final: FINAL_TRANSACTION_STATUSES.has(step.transactionStatus) } : undefined;
      const status = known ?? (step.outcome === 'authorised' ? await protocol.status(context, { ...record.payment, session: step.session }).catch(() => undefined) : undefined);
      const stored = await apply(record, claimId, step, status);
      if (step.outcome !== 'pending') context.log.info('payment.authorisation', { bank: record.bank, payment: record.id, outcome: step.outcome, ...(status ? { transactionStatus: status.transactionStatus } : {}) });
      return stored ?? record;
  }
}

/** The connection a payment's steps act for: only where the bank signs them with the PSU's token (`payments.connectionToken`). */
function actingFor(bank: ResolvedBank, connection: Connection | undefined): Connection | undefined {
  return bank.payments?.protocol === 'berlin-group' && bank.payments.connectionToken ? connection : undefined;
}

function parseJson(body: Uint8Array): unknown {
  try {
    return JSON.parse(new TextDecoder().decode(body)) as unknown;
  } catch {
    return undefined;
  }
}
