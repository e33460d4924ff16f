import { finishAuthorization, startAuthorization } from '../oauth/authorization-request.js';
import { randomToken } from '../crypto/random.js';
import { BankgateError } from '../errors/bankgate-error.js';
import { connectionStorageId, storageIdOf, type Connection } from '../store/connection.js';
import { CONNECTION_ID_PATTERN } from '../surface/connection-api.js';
import { bankOAuth, type TokenContext } from './context.js';
import { toOAuthError } from './oauth-error.js';
import { answerFromSettled, claimConsentState, CODE_EXCHANGE_TIMEOUT_MS, settleConsent } from './state-claim.js';
import { toTokenSet } from './token-set.js';
import { updateConnection } from './update-connection.js';

const CONSENT_WINDOW_MS = 15 * 60_000;

export interface BeginConsentInput {
  readonly bank: string;
  /** The caller's `Caller.key`: the namespace of its connection ids. */
  readonly owner: string;
  readonly connectionId?: string;
  readonly scopes?: readonly string[];
  readonly returnTo?: string;
  /** `<publicUrl>/callback/<bank>`, registered at the bank. */
  readonly redirectUri: string;
  /** The PSU's IP address (`PSU-IP-Address` of `POST /connections`: the PSU is present), for banks that want it. */
  readonly psuIpAddress?: string;
  /** UK Open Banking: the existing intent (a payment consent) the PSU authorises, instead of a new account-access one. */
  readonly consentId?: string;
}

/**
 * Starts the authorization-code redirect (RFC 6749 §4.1) with PKCE (RFC 7636), `state`, and for OIDC banks
 * a nonce: stores the pending consent and returns the URL to send the PSU to.
 */
export async function beginConsent(context: TokenContext, input: BeginConsentInput): Promise<{ connection: Connection; authorizeUrl: string }> {
  const bankSide = bankOAuth(context, input.bank);
  const { bank } = bankSide;
  if (input.connectionId !== undefined && !CONNECTION_ID_PATTERN.test(input.connectionId)) {
    throw new BankgateError('bad_request', { status: 400, detail: 'connectionId must be 1–128 characters of A–Z, a–z, 0–9, ".", "_" or "-"' });
  }
  if (input.consentId !== undefined) throw new BankgateError('bad_request', { status: 400, bank: bank.name, detail: `consentId names a UK Open Banking intent; bank ${bank.name} does not speak UK Open Banking (banks.${bank.name}.consent.protocol)` });
  const scopes = input.scopes ?? bank.consent.scopes;
  const known = new Set([...bank.consent.scopes, ...[...bank.apis.values()].flatMap((api) => api.manifest.routes.flatMap((r) => r.scopes))]);
  const unknown = scopes.filter((scope) => !known.has(scope));
  if (unknown.length > 0) {
    throw new BankgateError('bad_request', { status: 400, bank: bank.name, detail: `bank ${bank.name} has no scope ${unknown.join(', ')}; its scopes are ${[...known].sort().join(', ')}` });
  }
  if (input.returnTo !== undefined && !/^https?:\/\//.test(input.returnTo)) {
    throw new BankgateError('bad_request', { status: 400, detail: 'returnTo must be an absolute http(s) URL' });
  }

  // Connection ids are per caller: what is found here is the caller's own, never another caller's.
  let existing = input.connectionId ? await context.store.get(connectionStorageId(input.owner, input.connectionId)) : undefined;
  if (existing) assertSameBank(existing, bank.name);

  // The request as the bank's `authorizationRequest` says (query, PAR, request object, FAPI profiles; a DPoP key's
  // thumbprint): plugin/oauth/authorization-request.ts.
  const started = await startAuthorization(bankSide, { redirectUri: input.redirectUri, scopes, openid: bank.consent.openid, params: bank.consent.extraParams });
  const { state, codeVerifier, nonce } = started.pending;
  const now = context.now();
  const connection: Connection = {
    id: existing?.id ?? input.connectionId ?? `conn_${randomToken(12)}`,
    bank: bank.name,
    owner: input.owner,
    status: existing?.status === 'active' ? 'active' : 'pending',
    scopes,
    createdAt: existing?.createdAt ?? now,
    updatedAt: now,
    tokens: existing?.tokens,
    subject: existing?.subject,
    pending: { state, codeVerifier, nonce, redirectUri: input.redirectUri, returnTo: input.returnTo, expiresAt: now + CONSENT_WINDOW_MS },
  };

  // A new connection is created only if absent (atomic in every store): a concurrent creation of the same id
  // by this caller makes this a re-consent of that connection, never an overwrite of it.
  let stored = existing ? undefined : await context.store.create(connection);
  if (!stored) {
    existing ??= await context.store.get(storageIdOf(connection));
    if (existing) assertSameBank(existing, bank.name);
    // An existing connection keeps whatever a concurrent refresh stored; only the pending consent is added.
    stored = await updateConnection(context.store, storageIdOf(connection), (latest) =>
      latest.bank !== bank.name ? undefined : { ...latest, status: latest.status === 'active' ? 'active' : 'pending', scopes, updatedAt: now, pending: connection.pending },
    );
  }
  if (!stored) throw new BankgateError('connection_not_found', { status: 404, detail: `connection ${connection.id} was deleted meanwhile; start again` });
  context.log.info('consent.started', { bank: bank.name, connectionId: connection.id });
  return { connection: stored, authorizeUrl: started.authorizeUrl };
}

/**
 * Finishes the redirect at `GET /callback/{bank}`: claims `state` atomically (a second delivery of the same
 * callback is answered from the first one's outcome, never by the bank: see state-claim.ts), checks the
 * RFC 9207 `iss`, exchanges the code with the PKCE verifier, checks the id_token (nonce, and the acr asked
 * for), and stores the token set.
 */
export async function completeConsent(context: TokenContext, bankName: string, callbackUrl: URL): Promise<{ connection: Connection; returnTo?: string }> {
  const bankSide = bankOAuth(context, bankName);
  const state = callbackUrl.searchParams.get('state');
  // Claimed atomically before the code is exchanged: a second delivery of this callback never reaches the bank.
  const claim = state ? await claimConsentState(context, bankName, state) : ({ kind: 'unknown' } as const);
  if (claim.kind === 'unknown') {
    throw new BankgateError('consent_failed', { status: 400, bank: bankName, detail: 'unknown or already used state: start again with POST /connections' });
  }
  if (claim.kind === 'settled') return answerFromSettled(bankName, claim);
  const { connection, pending, claimant } = claim;

  try {
    const thumbprint = bankSide.certificateThumbprint();
    // Bounded: the state claim holds longer than this exchange may take.
    const signal = AbortSignal.timeout(CODE_EXCHANGE_TIMEOUT_MS);
    // `state`, `iss` (required under FAPI 2.0), the detached id_token (FAPI 1 Advanced), PKCE, nonce, DPoP binding.
    const { tokens: result, idToken: claims } = await finishAuthorization(bankSide, callbackUrl.searchParams, pending, { requireIdToken: bankSide.bank.consent.openid || pending.nonce !== undefined, signal });
    checkAcr(bankName, bankSide.bank.consent.extraParams.acr_values, claims?.acr);
    const now = context.now();
    const fields: Partial<Connection> = {
      status: 'active',
      reason: undefined,
      tokens: toTokenSet(result, now, undefined, thumbprint),
      scopes: result.scope ? result.scope.split(' ').filter((s) => s !== 'openid') : connection.scopes,
      subject: claims?.sub ?? connection.subject,
    };
    // Written only onto the connection that still waits for this state under this claim: a connection
    // deleted (or whose consent was restarted) during the exchange is not brought back.
    const settled = await settleConsent(context, connection, pending.state, claimant, { outcome: 'active', fields });
    if (!settled) throw new BankgateError('consent_failed', { status: 409, bank: bankName, detail: `connection ${connection.id} was deleted or its consent restarted meanwhile: start again with POST /connections` });
    context.log.info('consent.completed', { bank: bankName, connectionId: connection.id });
    return answerFromSettled(bankName, settled);
  } catch (error) {
    const failure = toOAuthError(bankName, 'authorization code exchange', error);
    const answer = failure.code === 'consent_failed' ? failure : new BankgateError('consent_failed', { status: 502, bank: bankName, detail: failure.message, cause: failure, extra: failure.extra });
    await settleConsent(context, connection, pending.state, claimant, {
      outcome: 'failed',
      error: { code: 'consent_failed', status: answer.status, detail: answer.message },
      reason: { code: failure.code, detail: failure.message },
    });
    context.log.warn('consent.failed', { bank: bankName, connectionId: connection.id, code: failure.code, detail: failure.message });
    throw answer;
  }
}

/** A connection id names one connection of a caller, at one bank. */
function assertSameBank(existing: Connection, bank: string): void {
  if (existing.bank !== bank) {
    throw new BankgateError('connection_bank_mismatch', { status: 409, bank, detail: `your connection ${existing.id} is with bank ${existing.bank}, not ${bank}: choose another connectionId, or DELETE it first` });
  }
}

function checkAcr(bank: string, requested: string | undefined, acr: unknown) {
  if (requested === undefined) return;
  const allowed = requested.split(' ');
  if (typeof acr !== 'string' || !allowed.includes(acr)) {
    throw new BankgateError('consent_failed', { status: 502, bank, detail: `bank ${bank} issued an id_token with acr ${JSON.stringify(acr)}; asked for ${requested}` });
  }
}
