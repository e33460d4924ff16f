/**
 * SEB's decoupled login with Mobile BankID, as its Postman collections show it ("Decoupled Authorization"), served
 * on the SEB-like authorization server's host with JSON bodies:
 *
 *   POST /auth/v3/authorizations            {client_id, lang, scope, start_mode}  → 201 {auth_req_id}
 *   GET  /auth/v3/authorizations/<id>       → 200 {status: PENDING|COMPLETE|FAILED, hint_code, poll_delay (ms),
 *                                                  autostart_token, qr_token}
 *   POST /open/sb/auth/mock/v1/login        {personal_identity_number, start_token} → 204: SEB's sandbox BankID
 *                                           simulator, the PSU signing in the app (12 or 10 digit identity number)
 *   POST /auth/v3/tokens                    {client_id, client_secret, auth_req_id, redirect_uri} → the token response
 *
 * The tokens are oidc-provider's own: `/auth/v3/tokens` is handed to the real token endpoint as a grant of type
 * `SEB_BANKID_GRANT` with `client_secret_post`, so client authentication, the stats, token faults, refresh (not
 * rotated) and revocation are those of every other SEB token. A login nobody signs fails after 3 minutes
 * (BankID's `expiredTransaction`); an authorization request gives tokens once.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import Provider, { errors } from 'oidc-provider';
import { findPsu, SEB_PSUS } from '../data.js';

export const SEB_BANKID_GRANT = 'urn:sebgroup:params:oauth:grant-type:bankid';
const LIFETIME_MS = 180_000;
const POLL_DELAY_MS = 1000;
const MAX_BODY = 16 * 1024;

interface BankIdLogin {
  readonly authReqId: string;
  readonly clientId: string;
  readonly scope: string;
  readonly autostartToken: string;
  readonly expiresAt: number;
  status: 'PENDING' | 'COMPLETE' | 'FAILED';
  hintCode: string;
  psuId: string | undefined;
  redeemed: boolean;
}

/** SEB's error body for the auth API (RFC 7807-like). */
function problem(res: ServerResponse, status: number, title: string, detail: string): void {
  res.statusCode = status;
  res.setHeader('content-type', 'application/json');
  res.end(JSON.stringify({ status, title, detail, type: `https://developer.sebgroup.com/errors/${status}` }));
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.statusCode = status;
  res.setHeader('content-type', 'application/json');
  res.setHeader('cache-control', 'no-store');
  res.end(JSON.stringify(body));
}

async function readJson(req: IncomingMessage): Promise<Record<string, unknown> | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY) return undefined;
    chunks.push(chunk);
  }
  try {
    const parsed: unknown = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** A Swedish personal identity number, 12 digits (YYYYMMDDNNNN) or the sandbox PSUs' 10 (YYMMDDNNNN). */
function sandboxPsuOf(identityNumber: unknown): string | undefined {
  if (typeof identityNumber !== 'string' || !/^\d{10}(\d{2})?$/.test(identityNumber)) return undefined;
  return findPsu(SEB_PSUS, identityNumber.length === 12 ? identityNumber.slice(2) : identityNumber)?.id;
}

export class SebBankIdLogins {
  readonly #logins = new Map<string, BankIdLogin>();

  constructor(
    private readonly provider: Provider,
    private readonly clientId: string,
    private readonly scopes: readonly string[],
    private readonly tokenPath: string,
  ) {
    provider.registerGrantType(SEB_BANKID_GRANT, (ctx) => this.#grant(ctx), ['auth_req_id']);
  }

  /** The auth API and the simulator; false for any other path. */
  handle(req: IncomingMessage, res: ServerResponse): boolean {
    const path = new URL(req.url ?? '/', 'https://bank').pathname;
    const status = /^\/auth\/v3\/authorizations\/([A-Za-z0-9-]+)$/.exec(path);
    let handled: Promise<void> | undefined;
    if (req.method === 'POST' && path === '/auth/v3/authorizations') handled = this.#start(req, res);
    else if (req.method === 'GET' && status) handled = Promise.resolve(this.#status(res, status[1]!));
    else if (req.method === 'POST' && path === '/open/sb/auth/mock/v1/login') handled = this.#simulate(req, res);
    else if (req.method === 'POST' && path === '/auth/v3/tokens') handled = this.#tokens(req, res);
    if (!handled) return false;
    handled.catch((error: unknown) => {
      if (!res.headersSent) problem(res, 500, 'Internal server error', error instanceof Error ? error.message : String(error));
    });
    return true;
  }

  async #start(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await readJson(req);
    if (!body) return problem(res, 400, 'Bad request', 'the body must be a JSON object');
    if (body.client_id !== this.clientId) return problem(res, 400, 'Bad request', 'unknown client_id');
    const scope = typeof body.scope === 'string' ? body.scope.split(' ').filter(Boolean) : [];
    if (scope.length === 0 || scope.some((s) => !this.scopes.includes(s))) {
      return problem(res, 422, 'Input error', `scope must be made of ${this.scopes.join(', ')}`);
    }
    const login: BankIdLogin = {
      authReqId: randomUUID(),
      clientId: this.clientId,
      scope: scope.join(' '),
      autostartToken: randomUUID(),
      expiresAt: Date.now() + LIFETIME_MS,
      status: 'PENDING',
      hintCode: 'outstandingTransaction',
      psuId: undefined,
      redeemed: false,
    };
    this.#logins.set(login.authReqId, login);
    json(res, 201, { auth_req_id: login.authReqId });
  }

  #login(authReqId: string): BankIdLogin | undefined {
    const login = this.#logins.get(authReqId);
    if (login?.status === 'PENDING' && Date.now() >= login.expiresAt) {
      login.status = 'FAILED';
      login.hintCode = 'expiredTransaction';
    }
    return login;
  }

  #status(res: ServerResponse, authReqId: string): void {
    const login = this.#login(authReqId);
    if (!login) return problem(res, 404, 'Not found', 'invalid authorization request id');
    json(res, 200, {
      status: login.status,
      hint_code: login.hintCode,
      poll_delay: POLL_DELAY_MS,
      autostart_token: login.autostartToken,
      // BankID's animated QR: a fresh token per poll.
      qr_token: `bankid.${login.autostartToken}.${randomBytes(8).toString('hex')}`,
    });
  }

  async #simulate(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await readJson(req);
    const login = [...this.#logins.values()].find((candidate) => candidate.autostartToken === body?.start_token);
    if (!login || this.#login(login.authReqId)?.status !== 'PENDING') return problem(res, 400, 'Bad request', 'no pending BankID login for this start_token');
    const psuId = sandboxPsuOf(body?.personal_identity_number);
    if (!psuId) return problem(res, 400, 'Bad request', `personal_identity_number must be a sandbox PSU: ${SEB_PSUS.map((p) => p.id).join(', ')}`);
    login.status = 'COMPLETE';
    login.hintCode = 'complete';
    login.psuId = psuId;
    res.statusCode = 204;
    res.end();
  }

  /** `/auth/v3/tokens` is the real token endpoint with this bank's grant: rewrite the JSON into its form. */
  async #tokens(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await readJson(req);
    if (!body) return json(res, 400, { error: 'invalid_request', error_description: 'the body must be a JSON object' });
    const form = new URLSearchParams({ grant_type: SEB_BANKID_GRANT });
    for (const field of ['auth_req_id', 'client_id', 'client_secret'] as const) {
      if (typeof body[field] === 'string') form.set(field, body[field] as string);
    }
    const encoded = Buffer.from(form.toString());
    req.url = this.tokenPath;
    req.headers['content-type'] = 'application/x-www-form-urlencoded';
    req.headers['content-length'] = String(encoded.length);
    // An already-read body is taken from req.body (see token-faults.ts).
    (req as { body?: Buffer }).body = encoded;
    await this.provider.callback()(req, res);
  }

  async #grant(ctx: Parameters<Parameters<Provider['registerGrantType']>[1]>[0]): Promise<void> {
    const { client } = ctx.oidc;
    const login = this.#login(String(ctx.oidc.params?.auth_req_id ?? ''));
    if (!login || login.clientId !== client!.clientId) throw new errors.InvalidGrant('invalid authorization request id');
    if (login.status === 'PENDING') {
      const pending = new errors.CustomOIDCProviderError('authorization_pending', 'the PSU has not signed in the BankID app yet');
      // SEB: "Authorization request is in the wrong state" is a 409.
      Object.assign(pending, { status: 409, statusCode: 409 });
      throw pending;
    }
    if (login.status === 'FAILED') throw new errors.InvalidGrant(`the BankID login failed (${login.hintCode})`);
    if (login.redeemed) throw new errors.InvalidGrant('the authorization request was already exchanged for tokens');
    login.redeemed = true;
    const { Grant, AccessToken, RefreshToken } = this.provider;
    const grant = new Grant({ accountId: login.psuId!, clientId: client!.clientId });
    grant.addOIDCScope(login.scope);
    const grantId = await grant.save();
    const common = { accountId: login.psuId!, client: client!, grantId, gty: SEB_BANKID_GRANT, scope: login.scope };
    const accessToken = new AccessToken(common);
    ctx.oidc.entity('AccessToken', accessToken);
    const refreshToken = new RefreshToken({ ...common, rotations: 0 });
    ctx.body = {
      access_token: await accessToken.save(),
      expires_in: accessToken.expiration,
      refresh_token: await refreshToken.save(),
      scope: login.scope,
      token_type: 'Bearer',
    };
  }
}
