import { Hono } from 'hono';
import { BankgateError } from '../errors/bankgate-error.js';
import { connectionStorageId, storageIdOf, type Connection } from '../store/connection.js';
import type { TokenEngine } from '../tokens/token-engine.js';
import type { Caller, CallerAuthVariables } from './caller-auth.js';
import type { MountPrefixVariables } from './mount-prefix.js';
import type { RequestIdVariables } from './request-id.js';
import { createConnectionBody, type ConnectionView } from './connection-api.js';
import { allowsBank } from './permissions.js';
import { readBoundedRequestBody } from './request-body.js';

/** `POST /connections` takes a few fields: a body past this is refused (413) before it is buffered. */
const CONNECTION_BODY_MAX_BYTES = 64 * 1024;

/** What a caller may see of a connection: never a token. Its shape is `Connection` in connection-api.ts. */
export function connectionView(connection: Connection): ConnectionView {
  return {
    connectionId: connection.id,
    bank: connection.bank,
    status: connection.status,
    scopes: [...connection.scopes],
    accessTokenExpiresAt: connection.tokens ? new Date(connection.tokens.expiresAt).toISOString() : null,
    createdAt: new Date(connection.createdAt).toISOString(),
    updatedAt: new Date(connection.updatedAt).toISOString(),
    ...(connection.reason ? { reason: connection.reason } : {}),
    ...(connection.consent ? { consent: consentView(connection.consent) } : {}),
  };
}

function consentView(consent: NonNullable<Connection['consent']>): NonNullable<ConnectionView['consent']> {
  const paymentId = consent.data?.paymentId;
  return { ...(consent.id ? { id: consent.id } : {}), ...(consent.status ? { status: consent.status } : {}), ...(typeof paymentId === 'string' ? { paymentId } : {}) };
}

/** The caller's `PSU-IP-Address` (the PSU is present while consenting), when it looks like an IP address. */
function psuIpAddressOf(value: string | undefined): { psuIpAddress?: string } {
  return value !== undefined && /^[0-9A-Fa-f:.]{2,45}$/.test(value) ? { psuIpAddress: value } : {};
}

/** `POST /connections`, `GET` and `DELETE /connections/{id}`: the consent lifecycle, per caller. */
export function connectionRoutes(engine: TokenEngine, publicUrl: () => string) {
  const app = new Hono<{ Variables: CallerAuthVariables & RequestIdVariables & MountPrefixVariables }>();

  /**
   * The caller's own connection `id` (ids are per caller: another caller's `id` is another connection), on a
   * bank the caller may still use. Nothing in these answers says anything about other callers' connections.
   */
  const owned = async (id: string, caller: Caller) => {
    const connection = await engine.store.get(connectionStorageId(caller.key, id));
    if (!connection || connection.owner !== caller.key) throw new BankgateError('connection_not_found', { status: 404, detail: `connection ${id.slice(0, 128)} does not exist` });
    if (!allowsBank(caller.allow, connection.bank)) throw new BankgateError('forbidden', { status: 403, bank: connection.bank, detail: `caller ${caller.id} may not use bank ${connection.bank}` });
    return connection;
  };

  app.post('/connections', async (c) => {
    const body = await readBoundedRequestBody(c.req.raw.body, c.req.header('content-length'), CONNECTION_BODY_MAX_BYTES);
    let json: unknown;
    try {
      json = JSON.parse(new TextDecoder().decode(body));
    } catch {
      throw new BankgateError('bad_request', { status: 400, detail: 'send a JSON body: { "bank": "<bank>", "connectionId"?: "...", "scopes"?: [...], "returnTo"?: "https://..." }' });
    }
    const parsed = createConnectionBody.safeParse(json);
    if (!parsed.success) {
      const violations = parsed.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`);
      throw new BankgateError('bad_request', { status: 400, detail: violations.join('; '), extra: { violations } });
    }
    const { bank, connectionId, scopes, returnTo, consentId } = parsed.data;
    const caller = c.get('caller');
    if (!allowsBank(caller.allow, bank)) throw new BankgateError('forbidden', { status: 403, bank, detail: `caller ${caller.id} may not use bank ${bank.slice(0, 60)}` });
    const { connection, authorizeUrl } = await engine.beginConsent({
      bank,
      connectionId,
      scopes,
      returnTo,
      owner: caller.key,
      // The bank sends the PSU back to where this gateway answers: its mount prefix included.
      redirectUri: `${publicUrl()}${c.get('mountPrefix') ?? ''}/callback/${bank}`,
      ...psuIpAddressOf(c.req.header('psu-ip-address')),
      ...(consentId !== undefined ? { consentId } : {}),
    }, c.get('requestId'));
    return c.json({ ...connectionView(connection), authorizeUrl }, 201, { location: `${c.get('mountPrefix') ?? ''}/connections/${encodeURIComponent(connection.id)}` });
  });

  app.get('/connections/:id', async (c) => c.json(connectionView(await owned(c.req.param('id'), c.get('caller')))));

  app.delete('/connections/:id', async (c) => {
    const connection = await owned(c.req.param('id'), c.get('caller'));
    const revocation = await engine.revoke(connection, c.get('requestId'));
    await engine.store.delete(storageIdOf(connection));
    return c.json({ connectionId: connection.id, status: 'revoked', revocation });
  });

  // Another method on a consent path is a 405 naming the ones there are, as for bank operations.
  const notAllowed = (allowed: string[]) => () => {
    throw new BankgateError('method_not_allowed', { status: 405, detail: `allowed: ${allowed.join(', ')}`, extra: { allowed } });
  };
  app.all('/connections', notAllowed(['POST']));
  app.all('/connections/:id', notAllowed(['GET', 'DELETE']));

  return app;
}

export const FRAGMENT_RELAY_SCRIPT = "if(location.hash.length>1)location.replace(location.pathname+'?'+location.hash.slice(1));else document.body.textContent='Nothing to complete: start again from the application.';";
const FRAGMENT_RELAY = `<!doctype html><meta charset="utf-8"><title>bankgate</title><body><script>${FRAGMENT_RELAY_SCRIPT}</script></body>`;
/** CSP hash of the script (sha256, base64; test/fapi/ukob-ais-gateway-fapi1.test.ts recomputes it): that script and nothing else runs. */
export const FRAGMENT_RELAY_HASH = 'sha256-ZuBiXBM6kS3FVTijTMcK7jlQukIB/fkFfzAmjfzdhg0=';

/** `GET /callback/{bank}`: where the bank sends the PSU back. Authenticated by `state`, not by caller key. */
export function callbackRoute(engine: TokenEngine) {
  const app = new Hono<{ Variables: RequestIdVariables }>();
  app.get('/callback/:bank', async (c) => {
    // A hybrid response (FAPI 1 Advanced: `code id_token`) comes in the fragment, which the browser keeps: a page
    // that sends it back as the query. Only for a bare callback; it carries nothing and runs nothing else.
    const query = new URL(c.req.url).searchParams;
    if (!query.has('state') && !query.has('code') && !query.has('error')) {
      return c.html(FRAGMENT_RELAY, 200, { 'cache-control': 'no-store', 'content-security-policy': `default-src 'none'; script-src '${FRAGMENT_RELAY_HASH}'`, 'referrer-policy': 'no-referrer' });
    }
    const { connection, returnTo } = await engine.completeConsent(c.req.param('bank'), new URL(c.req.url), c.get('requestId'));
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
