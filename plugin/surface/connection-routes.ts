import { Hono } from 'hono';
import { BankgateError } from '../errors/bankgate-error.js';
import type { Connection } from '../store/connection.js';
import type { ConsentEngine } from '../consent/engine.js';
import type { ConsentRequest } from '../consent/protocol.js';
import type { BudgetView } from '../consent/unattended-budget.js';
import type { TokenEngine } from '../tokens/token-engine.js';
import type { CallerAuthVariables } from './caller-auth.js';
import type { RequestIdVariables } from './request-id.js';
import { CONNECTION_ID_PATTERN, createConnectionBody, psuDataBody, type ConnectionView, type PaymentView } from './connection-api.js';
import { allowsBank } from './permissions.js';

/** What a caller may see of a connection: never a token. Its shape is `Connection` in connection-api.ts. */
export function connectionView(connection: Connection, budget?: BudgetView): ConnectionView {
  return {
    connectionId: connection.id,
    bank: connection.bank,
    status: connection.status,
    scopes: [...connection.scopes],
    accessTokenExpiresAt: connection.tokens ? new Date(connection.tokens.expiresAt).toISOString() : null,
    createdAt: new Date(connection.createdAt).toISOString(),
    updatedAt: new Date(connection.updatedAt).toISOString(),
    ...(connection.reason ? { reason: connection.reason } : {}),
    ...(connection.pending?.nextAction ? { nextAction: connection.pending.nextAction as ConnectionView['nextAction'] } : {}),
    ...(connection.consent ? { consent: consentView(connection.consent) } : {}),
    ...(budget ? { unattended: { frequencyPerDay: budget.frequencyPerDay, reads: budget.reads.map((read) => ({ ...read })) } } : {}),
    ...(connection.psu?.changedAt !== undefined ? { psu: { changedAt: new Date(connection.psu.changedAt).toISOString() } } : {}),
  };
}

function consentView(consent: NonNullable<Connection['consent']>): NonNullable<ConnectionView['consent']> {
  const { data: _data, checkedAt, ...shown } = consent;
  return { ...shown, ...(checkedAt !== undefined ? { checkedAt: new Date(checkedAt).toISOString() } : {}) };
}

/** What a caller sees of a payment the gateway follows. */
export function paymentView(record: Connection): PaymentView {
  const payment = record.payment!;
  return {
    id: record.id,
    bank: record.bank,
    paymentId: payment.paymentId,
    authorisation: payment.authorisation,
    final: payment.final,
    ...(payment.transactionStatus ? { transactionStatus: payment.transactionStatus } : {}),
    ...(record.pending?.nextAction ? { nextAction: record.pending.nextAction as PaymentView['nextAction'] } : {}),
    ...(payment.reason ? { reason: payment.reason } : {}),
  };
}

/** Parses a JSON body with a zod schema: a 400 naming every violation. */
async function parsedBody<T>(read: () => Promise<unknown>, schema: { safeParse(value: unknown): { success: true; data: T } | { success: false; error: { issues: { path: PropertyKey[]; message: string }[] } } }, example: string): Promise<T> {
  let json: unknown;
  try {
    json = await read();
  } catch {
    throw new BankgateError('bad_request', { status: 400, detail: `send a JSON body: ${example}` });
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) {
    const violations = parsed.error.issues.map((i) => `${i.path.map(String).join('.') || 'body'}: ${i.message}`);
    throw new BankgateError('bad_request', { status: 400, detail: violations.join('; '), extra: { violations } });
  }
  return parsed.data;
}

/** `POST /connections`, `GET` and `DELETE /connections/{id}`: the consent lifecycle, per caller. */
export function connectionRoutes(engine: TokenEngine, consent: ConsentEngine) {
  const app = new Hono<{ Variables: CallerAuthVariables & RequestIdVariables }>();

  const owned = async (id: string, callerId: string) => {
    if (!CONNECTION_ID_PATTERN.test(id)) throw new BankgateError('bad_request', { status: 400, detail: 'connectionId must be 1–128 characters of A–Z, a–z, 0–9, ".", "_" or "-"' });
    const connection = await engine.store.get(id);
    if (!connection || connection.owner !== callerId || connection.kind === 'payment') throw new BankgateError('connection_not_found', { status: 404, detail: `connection ${id.slice(0, 128)} does not exist` });
    return connection;
  };

  app.post('/connections', async (c) => {
    const body = await parsedBody(() => c.req.json(), createConnectionBody, '{ "bank": "<bank>", "connectionId"?: "...", "returnTo"?: "https://...", "access"?: "all", "psu"?: { "ipAddress": "..." } }');
    const { bank, connectionId, scopes, returnTo } = body;
    const caller = c.get('caller');
    if (!allowsBank(caller.allow, bank)) throw new BankgateError('forbidden', { status: 403, bank, detail: `caller ${caller.id} may not use bank ${bank.slice(0, 60)}` });
    const request: ConsentRequest = {
      access: body.access ?? 'all',
      recurring: body.recurring ?? true,
      psu: body.psu ?? {},
      ...(body.validUntil !== undefined ? { validUntil: body.validUntil } : {}),
      ...(body.frequencyPerDay !== undefined ? { frequencyPerDay: body.frequencyPerDay } : {}),
      ...(body.preferredApproach !== undefined ? { preferredApproach: body.preferredApproach } : {}),
      ...(scopes !== undefined ? { scopes } : {}),
    };
    const { connection, nextAction } = await consent.begin({ bank, connectionId, request, returnTo, owner: caller.id }, c.get('requestId'));
    const view = connectionView(connection);
    return c.json({ ...view, ...(nextAction ? { nextAction } : {}), ...(nextAction?.type === 'redirect' ? { authorizeUrl: nextAction.url } : {}) }, 201, {
      location: `/connections/${encodeURIComponent(connection.id)}`,
    });
  });

  app.get('/connections/:id', async (c) => {
    const connection = await owned(c.req.param('id'), c.get('caller').id);
    const current = await consent.refresh(connection, c.get('requestId'));
    return c.json(connectionView(current, await consent.budget(current)));
  });

  app.post('/connections/:id/psu-data', async (c) => {
    const connection = await owned(c.req.param('id'), c.get('caller').id);
    const data = await parsedBody(() => c.req.json(), psuDataBody, '{ "password": "..." } (what nextAction.step asks for)');
    return c.json(connectionView(await consent.psuData(connection, data, c.get('requestId'))));
  });

  app.get('/payments/:id', async (c) => {
    const id = c.req.param('id');
    const record = CONNECTION_ID_PATTERN.test(id) ? await engine.store.get(id) : undefined;
    // Another caller's payment answers exactly like one that does not exist.
    if (!record || record.kind !== 'payment' || !record.payment || record.owner !== c.get('caller').id) {
      throw new BankgateError('payment_not_found', { status: 404, detail: `payment ${id.slice(0, 128)} does not exist` });
    }
    return c.json(paymentView(await consent.payments.refresh(record, c.get('requestId'))));
  });

  app.delete('/connections/:id', async (c) => {
    const connection = await owned(c.req.param('id'), c.get('caller').id);
    const revocation = await consent.revoke(connection, c.get('requestId'));
    await engine.store.delete(connection.id);
    return c.json({ connectionId: connection.id, status: 'revoked', revocation });
  });

  return app;
}

/** `GET /callback/{bank}`: where the bank sends the PSU back. Authenticated by `state`, not by caller key. */
export function callbackRoute(consent: ConsentEngine) {
  const app = new Hono<{ Variables: RequestIdVariables }>();
  app.get('/callback/:bank', async (c) => {
    const { connection, returnTo } = await consent.complete(c.req.param('bank'), new URL(c.req.url), c.get('requestId'));
    if (connection.kind === 'payment' && connection.payment) {
      const { paymentId, authorisation, transactionStatus, reason } = connection.payment;
      return c.json({ paymentId, bank: connection.bank, authorisation, ...(transactionStatus ? { transactionStatus } : {}), ...(reason ? { reason } : {}) });
    }
    if (returnTo) {
      const back = new URL(returnTo);
      back.searchParams.set('connectionId', connection.id);
      back.searchParams.set('status', connection.status);
      return c.redirect(back.href, 303);
    }
    return c.json({ connectionId: connection.id, bank: connection.bank, status: connection.status });
  });
  return app;
}
