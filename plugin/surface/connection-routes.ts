import { Hono } from 'hono';
import { BankgateError } from '../errors/bankgate-error.js';
import { connectionStorageId, storageIdOf, type Connection } from '../store/connection.js';
import type { ConsentEngine } from '../consent/engine.js';
import type { ConsentRequest } from '../consent/protocol.js';
import type { BudgetView } from '../consent/unattended-budget.js';
import type { TokenEngine } from '../tokens/token-engine.js';
import type { Caller, CallerAuthVariables } from './caller-auth.js';
import type { MountPrefixVariables } from './mount-prefix.js';
import type { RequestIdVariables } from './request-id.js';
import { createConnectionBody, psuDataBody, type ConnectionView, type PaymentView } from './connection-api.js';
import { allowsBank } from './permissions.js';
import { readBoundedRequestBody } from './request-body.js';

/** `POST /connections` takes a few fields: a body past this is refused (413) before it is buffered. */
const CONNECTION_BODY_MAX_BYTES = 64 * 1024;

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
  const { data, checkedAt, ...shown } = consent;
  // UK Open Banking: the payment the gateway submitted from the consent (`consent.submitPayments`).
  const paymentId = data?.paymentId;
  return { ...shown, ...(checkedAt !== undefined ? { checkedAt: new Date(checkedAt).toISOString() } : {}), ...(typeof paymentId === 'string' ? { paymentId } : {}) };
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

/** A small JSON body, bounded before it is buffered (413 past `CONNECTION_BODY_MAX_BYTES`). */
async function readJson(request: Request): Promise<unknown> {
  const body = await readBoundedRequestBody(request.body, request.headers.get('content-length') ?? undefined, CONNECTION_BODY_MAX_BYTES);
  return JSON.parse(new TextDecoder().decode(body));
}

/** Parses a JSON body with a zod schema: a 400 naming every violation. */
async function parsedBody<T>(read: () => Promise<unknown>, schema: { safeParse(value: unknown): { success: true; data: T } | { success: false; error: { issues: { path: PropertyKey[]; message: string }[] } } }, example: string): Promise<T> {
  let json: unknown;
  try {
    json = await read();
  } catch (error) {
    if (error instanceof BankgateError) throw error; // 413: the body is too large
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
  const app = new Hono<{ Variables: CallerAuthVariables & RequestIdVariables & MountPrefixVariables }>();

  /**
   * The caller's own connection `id` (ids are per caller: another caller's `id` is another connection), on a
   * bank the caller may still use. Nothing in these answers says anything about other callers' connections.
   */
  const owned = async (id: string, caller: Caller) => {
    const connection = await engine.store.get(connectionStorageId(caller.key, id));
    if (!connection || connection.owner !== caller.key || connection.kind === 'payment') throw new BankgateError('connection_not_found', { status: 404, detail: `connection ${id.slice(0, 128)} does not exist` });
    if (!allowsBank(caller.allow, connection.bank)) throw new BankgateError('forbidden', { status: 403, bank: connection.bank, detail: `caller ${caller.id} may not use bank ${connection.bank}` });
    return connection;
  };

  app.post('/connections', async (c) => {
    const body = await parsedBody(() => readJson(c.req.raw), createConnectionBody, '{ "bank": "<bank>", "connectionId"?: "...", "returnTo"?: "https://...", "access"?: "all", "psu"?: { "ipAddress": "..." } }');
    const { bank, connectionId, scopes, returnTo, consentId } = body;
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
      ...(consentId !== undefined ? { consentId } : {}),
    };
    const prefix = c.get('mountPrefix') ?? '';
    // The bank sends the PSU back to where this gateway answers: its mount prefix included.
    const { connection, nextAction } = await consent.begin({ bank, connectionId, request, returnTo, owner: caller.key, mountPrefix: prefix }, c.get('requestId'));
    const view = connectionView(connection);
    return c.json({ ...view, ...(nextAction ? { nextAction } : {}), ...(nextAction?.type === 'redirect' ? { authorizeUrl: nextAction.url } : {}) }, 201, {
      location: `${prefix}/connections/${encodeURIComponent(connection.id)}`,
    });
  });

  app.get('/connections/:id', async (c) => {
    const connection = await owned(c.req.param('id'), c.get('caller'));
    const current = await consent.refresh(connection, c.get('requestId'));
    return c.json(connectionView(current, await consent.budget(current)));
  });

  app.post('/connections/:id/psu-data', async (c) => {
    const connection = await owned(c.req.param('id'), c.get('caller'));
    const data = await parsedBody(() => readJson(c.req.raw), psuDataBody, '{ "password": "..." } (what nextAction.step asks for)');
    return c.json(connectionView(await consent.psuData(connection, data, c.get('requestId'))));
  });

  app.get('/payments/:id', async (c) => {
    const id = c.req.param('id');
    const caller = c.get('caller');
    // Payment ids are per caller, like connection ids: another caller's payment answers exactly like none.
    const record = await engine.store.get(connectionStorageId(caller.key, id));
    if (!record || record.kind !== 'payment' || !record.payment || record.owner !== caller.key) {
      throw new BankgateError('payment_not_found', { status: 404, detail: `payment ${id.slice(0, 128)} does not exist` });
    }
    return c.json(paymentView(await consent.payments.refresh(record, c.get('requestId'))));
  });

  app.delete('/connections/:id', async (c) => {
    const connection = await owned(c.req.param('id'), c.get('caller'));
    const revocation = await consent.revoke(connection, c.get('requestId'));
    await engine.store.delete(storageIdOf(connection));
    return c.json({ connectionId: connection.id, status: 'revoked', revocation });
  });

  // Another method on a consent path is a 405 naming the ones there are, as for bank operations.
  const notAllowed = (allowed: string[]) => () => {
    throw new BankgateError('method_not_allowed', { status: 405, detail: `allowed: ${allowed.join(', ')}`, extra: { allowed } });
  };
  app.all('/connections', notAllowed(['POST']));
  app.all('/connections/:id', notAllowed(['GET', 'DELETE']));
  app.all('/connections/:id/psu-data', notAllowed(['POST']));
  app.all('/payments/:id', notAllowed(['GET']));

  return app;
}

export const FRAGMENT_RELAY_SCRIPT = "if(location.hash.length>1)location.replace(location.pathname+'?'+location.hash.slice(1));else document.body.textContent='Nothing to complete: start again from the application.';";
const FRAGMENT_RELAY = `<!doctype html><meta charset="utf-8"><title>bankgate</title><body><script>${FRAGMENT_RELAY_SCRIPT}</script></body>`;
/** CSP hash of the script (sha256, base64; test/fapi/ukob-ais-gateway-fapi1.test.ts recomputes it): that script and nothing else runs. */
export const FRAGMENT_RELAY_HASH = 'sha256-ZuBiXBM6kS3FVTijTMcK7jlQukIB/fkFfzAmjfzdhg0=';

/** `GET /callback/{bank}`: where the bank sends the PSU back. Authenticated by `state`, not by caller key. */
export function callbackRoute(consent: ConsentEngine) {
  const app = new Hono<{ Variables: RequestIdVariables }>();
  app.get('/callback/:bank', async (c) => {
    // A hybrid response (FAPI 1 Advanced: `code id_token`) comes in the fragment, which the browser keeps: a page
    // that sends it back as the query. Only for a bare callback; it carries nothing and runs nothing else.
    const query = new URL(c.req.url).searchParams;
    if (!query.has('state') && !query.has('code') && !query.has('error')) {
      return c.html(FRAGMENT_RELAY, 200, { 'cache-control': 'no-store', 'content-security-policy': `default-src 'none'; script-src '${FRAGMENT_RELAY_HASH}'`, 'referrer-policy': 'no-referrer' });
    }
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
