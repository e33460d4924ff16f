/**
 * The consent-protocol interface: how bankgate obtains a PSU's consent at a bank, whatever standard the bank speaks.
 *
 * Every standard is a sequence of small steps, each a request the gateway sends and a response it checks
 * (oauth4webapi's style, one level up). A protocol is one module per standard under `plugin/consent/<standard>/`:
 *
 *   begin(context, input)          → Step     create what the bank needs first (nothing for plain OAuth; a consent
 *                                             resource for Berlin Group; an intent for UK Open Banking) and say what
 *                                             the PSU must do next (`nextAction`)
 *   continue(context, session, in) → Step     go on with what arrived: the PSU's browser back at the gateway's
 *                                             callback, the PSU's data (embedded SCA), or a poll (decoupled SCA)
 *   status(context, connection)    → ConsentStatus   the consent at the bank now (status, validity, reason it ended)
 *   revoke(context, connection)    → RevocationOutcome   end the consent at the bank (DELETE /connections/{id})
 *   callCredentials(connection)    → what each bank call acting for the connection carries (`Consent-ID`, a token)
 *
 * The consent engine (engine.ts) runs them: it owns the store (the pending session is kept on the connection, its
 * `state` claimed atomically before a step runs), the callback route, `returnTo`, the PSU-subject check and the
 * polling rate. A protocol never touches the store and never sees the caller: it gets a `ConsentContext` (the bank,
 * its OAuth side, its mTLS transport, the TPP's client-credentials tokens, the gateway's callback URL) and returns
 * plain data. Bank quirks are config data read by the protocol (`banks.<bank>.consent`), never `if (bank === …)`.
 *
 * Writing a new protocol (UK Open Banking, STET, …):
 *   - intent-first standards create their intent in `begin` with `context.clientAccessToken(scopes)` and return
 *     `{ outcome: 'pending', nextAction: { type: 'redirect', url }, session }`; the authorization request can be
 *     anything the bank wants (PAR, a signed request object): the protocol builds the URL. Put what the callback
 *     needs (PKCE verifier, nonce, intent id) in `session`, and `oauth: { codeVerifier, nonce, redirectUri }` when
 *     it is an authorization-code step (the engine keeps those apart, sealed like every stored secret);
 *   - the callback is `continue(…, { kind: 'callback', url })`: check `state` is not needed (the engine found the
 *     session by it and claimed it), check the rest (`iss`, code exchange, id_token), and answer `authorised` with
 *     the token set and the consent record, or `failed` with a reason;
 *   - register it in `registry.ts` under its `banks.<bank>.consent.protocol` name.
 * The `oauth` protocol (oauth/protocol.ts) is the smallest complete example; `berlin-group` the largest.
 */
import type { ResolvedBank } from '../config/resolve-config.js';
import type { Logger } from '../log.js';
import type { Connection, TokenSet } from '../store/connection.js';
import type { BankOAuth } from '../tokens/authorization-server.js';
import type { RevocationOutcome } from '../tokens/revoke.js';
import type { BankResponse, BankTransport } from '../transport/types.js';

/** What services a consent covers: `all` (every account, every service), or some services of some accounts. */
export type ConsentAccess =
  | 'all'
  | {
      /** Default all three. */
      readonly services?: readonly ConsentService[];
      /** IBANs; absent or empty: the PSU picks the accounts at the bank (where the bank offers that). */
      readonly accounts?: readonly string[];
    };

export type ConsentService = 'accounts' | 'balances' | 'transactions';

/** The PSU's context, as the caller knows it: sent to banks that want it (`PSU-IP-Address`, `PSU-ID`, …). */
export interface PsuContext {
  /** The PSU's IP address: the PSU is present (Berlin Group requires it to create a consent). */
  readonly ipAddress?: string;
  readonly userAgent?: string;
  /** The PSU's login at the bank, when the caller knows it (Berlin Group `PSU-ID`): decoupled and embedded SCA need it. */
  readonly id?: string;
  readonly corporateId?: string;
}

/** SCA approaches a caller may prefer; the bank decides. */
export type ScaApproach = 'redirect' | 'decoupled' | 'embedded';

/** What a caller asks for in `POST /connections`, the same for every bank. */
export interface ConsentRequest {
  readonly access: ConsentAccess;
  /** `YYYY-MM-DD`; absent: as long as the bank grants. */
  readonly validUntil?: string;
  /** Recurring (default) or one-off access. */
  readonly recurring: boolean;
  /** Unattended reads per day per endpoint and account; absent: the bank's maximum (4 under PSD2). */
  readonly frequencyPerDay?: number;
  readonly psu: PsuContext;
  readonly preferredApproach?: ScaApproach;
  /** OAuth scopes, for protocols whose consent is a scope list (the `oauth` protocol); absent: the bank's default. */
  readonly scopes?: readonly string[];
  /**
   * A consent resource the caller already created at the bank through the gateway, for the PSU to authorise (UK Open
   * Banking: a payment or funds-confirmation intent's `ConsentId`). Only protocols with `authorisesExisting` take it.
   */
  readonly consentId?: string;
}

/**
 * The terms of a `ConsentRequest` a protocol can carry to the bank (the PSU context and the preferred SCA approach
 * are hints, never refused): `access` other than `all`, `validUntil`, `oneOff` (`recurring: false`),
 * `frequencyPerDay`, `scopes`. A caller who sets a term the bank's protocol cannot carry is refused (400, naming it),
 * rather than handed a consent on other terms than it asked for.
 */
export type ConsentTerm = 'access' | 'validUntil' | 'oneOff' | 'frequencyPerDay' | 'scopes';

/** Each term as the caller writes it in `POST /connections`. */
export const TERM_NAMES: Readonly<Record<ConsentTerm, string>> = { access: 'access', validUntil: 'validUntil', oneOff: 'recurring: false', frequencyPerDay: 'frequencyPerDay', scopes: 'scopes' };

/** The terms a request sets. */
export function termsAsked(request: ConsentRequest): ConsentTerm[] {
  const asked: ConsentTerm[] = [];
  if (request.access !== 'all') asked.push('access');
  if (request.validUntil !== undefined) asked.push('validUntil');
  if (!request.recurring) asked.push('oneOff');
  if (request.frequencyPerDay !== undefined) asked.push('frequencyPerDay');
  if (request.scopes !== undefined) asked.push('scopes');
  return asked;
}

/** An SCA method the PSU can choose (embedded SCA). */
export interface ScaMethod {
  readonly authenticationMethodId: string;
  readonly authenticationType?: string;
  readonly name?: string;
  readonly explanation?: string;
}

/** What the PSU is shown to answer an embedded SCA step (an OTP's format, an image, …). */
export interface ScaChallenge {
  readonly otpMaxLength?: number;
  readonly otpFormat?: 'characters' | 'integer';
  readonly additionalInformation?: string;
  readonly image?: string;
  readonly data?: readonly string[];
  readonly imageLink?: string;
}

/** The embedded SCA steps, in order; each answered with `POST /connections/{id}/psu-data`. */
export type EmbeddedStep =
  /** Who the PSU is: `{ psuId }`. */
  | 'psu_identification'
  /** The PSU's password (and `psuId` when the bank does not know it yet): `{ password }`. */
  | 'psu_authentication'
  /** Which SCA method: `{ authenticationMethodId }` from `methods`. */
  | 'sca_method_selection'
  /** The OTP / TAN the method produced: `{ scaAuthenticationData }`. */
  | 'sca_authentication';

/**
 * What the PSU (through the caller's front end) must do next, the same for every bank:
 * - `redirect`: send the PSU's browser to `url`; the bank sends it back to the gateway, which finishes and sends it
 *   on to the connection's `returnTo`;
 * - `decoupled`: show `psuMessage` (e.g. "open your banking app") and poll `GET /connections/{id}` every `pollAfterMs`;
 * - `embedded`: ask the PSU for what `step` needs and send it with `POST /connections/{id}/psu-data`.
 */
export type NextAction =
  | { readonly type: 'redirect'; readonly url: string }
  | { readonly type: 'decoupled'; readonly psuMessage?: string; readonly pollAfterMs: number }
  | { readonly type: 'embedded'; readonly step: EmbeddedStep; readonly methods?: readonly ScaMethod[]; readonly challenge?: ScaChallenge; readonly psuMessage?: string };

/** What the PSU sends for an embedded step (`POST /connections/{id}/psu-data`). */
export interface PsuData {
  readonly psuId?: string;
  readonly password?: string;
  readonly authenticationMethodId?: string;
  readonly scaAuthenticationData?: string;
}

/** The consent as the bank holds it, kept on the connection (`Connection.consent`). Never a secret in it. */
export interface ConsentRecord {
  /** The protocol that made it (`oauth`, `berlin-group`, …). */
  readonly protocol: string;
  /** The bank's id of the consent resource (Berlin Group `consentId`, UK `ConsentId`); absent for plain OAuth. */
  readonly id?: string;
  /** The bank's own status word (`valid`, `expired`, `revokedByPsu`, `Authorised`, …). */
  readonly status?: string;
  /** What the bank granted: `YYYY-MM-DD`. */
  readonly validUntil?: string;
  /** What the bank granted: unattended reads per day per endpoint and account. */
  readonly frequencyPerDay?: number;
  readonly recurring?: boolean;
  /** How the PSU authorised it (`redirect`, `oauth`, `oauth-pre-step`, `decoupled`, `embedded`). */
  readonly approach?: string;
  /** Epoch ms of the last time the gateway read the status at the bank. */
  readonly checkedAt?: number;
  /** Protocol-specific facts (JSON, no secret): e.g. whether account reads need the OAuth token. */
  readonly data?: Readonly<Record<string, unknown>>;
}

/** The state of one step kept between requests (on the pending connection), JSON only. */
export type SessionData = Readonly<Record<string, unknown>>;

/** An authorization-code step in progress: what the callback needs to redeem the code (RFC 6749, RFC 7636). */
export interface OAuthStep {
  readonly codeVerifier: string;
  readonly nonce?: string;
  readonly redirectUri: string;
}

export type Step =
  /** The PSU must act: the engine stores `session` (and `oauth`) on the connection and answers `nextAction`. */
  | { readonly outcome: 'pending'; readonly nextAction: NextAction; readonly session: SessionData; readonly oauth?: OAuthStep; readonly consent?: ConsentRecord }
  /** The consent is in force: store the tokens (when the bank issued any) and the record. */
  | { readonly outcome: 'authorised'; readonly consent: ConsentRecord; readonly tokens?: TokenSet; readonly scopes?: readonly string[]; readonly subject?: string }
  /** The PSU refused, the SCA failed, the bank rejected the consent: `reason.code` is stable. */
  | { readonly outcome: 'failed'; readonly reason: StatusReason; readonly consent?: ConsentRecord };

/** Why something ended or failed: a stable code and words for people (never a secret, never a PSU identifier). */
export interface StatusReason {
  readonly code: string;
  readonly detail: string;
}

export type ContinueInput =
  /** The PSU's browser arrived at `GET /callback/{bank}` with this URL (code, state, iss, or the bank's own words). */
  | { readonly kind: 'callback'; readonly url: URL }
  /** The PSU's answer to an embedded step. */
  | { readonly kind: 'psu-data'; readonly data: PsuData }
  /** The caller asks how a decoupled SCA is going (bounded by the engine to `pollAfterMs`). */
  | { readonly kind: 'poll' };

/** The consent at the bank now, for `GET /connections/{id}` and after the bank refused a call. */
export interface ConsentStatus {
  /** `active`: in force; `ended`: expired, revoked by the PSU, terminated; the reason says which. */
  readonly state: 'active' | 'ended' | 'unknown';
  readonly consent?: ConsentRecord;
  readonly reason?: StatusReason;
}

/** What every bank call acting for a connection carries, by the protocol's rules. */
export interface CallCredentials {
  /** Lower-case header → value (e.g. `consent-id`), owned by the gateway: a caller's value is never sent. */
  readonly headers: Readonly<Record<string, string>>;
  /** `required`: the connection's bearer token (refreshed as needed); `optional`: when it has one; `none`: never. */
  readonly token: 'required' | 'optional' | 'none';
}

/**
 * One call of a declared operation at the bank, as a protocol step sends it. Only declared operations can be
 * called (a link the bank hands out is matched against the bank's route table first): a protocol is never an open proxy.
 */
export interface OperationCall {
  readonly method: string;
  /**
   * A path under the API's base URL (`/v1/consents`, with `api`), or a link the bank handed out: relative to the API's
   * origin (`/psd2/v1/consents/…`) or absolute on it. It must name a declared operation of the bank.
   */
  readonly path: string;
  /** The API the path is under; without it the path is a link, looked up in every API of the bank. */
  readonly api?: string;
  /** Lower-case header → value: the step's own (`tpp-redirect-uri`, `psu-id`, `psu-ip-address`, …). */
  readonly headers?: Readonly<Record<string, string>>;
  /** A JSON body. */
  readonly body?: unknown;
  /**
   * The call's `Authorization`: a bearer token the step holds, the TPP's client-credentials token for the operation's
   * scopes, the token of the connection the context acts for (payments made under a PSU's token), or none (default).
   */
  readonly authorization?: { readonly bearer: string } | 'client-credentials' | 'connection';
}

/** The bank's answer to an `OperationCall`: its operation, status, headers and body (parsed when JSON). */
export interface OperationResponse {
  readonly operationId: string;
  readonly status: number;
  readonly headers: Readonly<Record<string, string | string[]>>;
  /** The parsed JSON body, or undefined when there is none (or it is not JSON). */
  readonly json: unknown;
  /** The raw answer (for `bankErrorToProblem`). */
  readonly response: BankResponse;
}

/** What a protocol gets to talk to one bank. */
export interface ConsentContext {
  readonly bank: ResolvedBank;
  /** The bank's OAuth side: authorization server metadata, client, client authentication, the mTLS fetch. */
  readonly oauth: BankOAuth;
  /** The bank's transport (mTLS, signing, retries, breaker), for what `call` does not cover. */
  readonly transport: BankTransport;
  /** Calls a declared operation of the bank over its transport (X-Request-ID, signing and mTLS added). */
  call(operation: OperationCall): Promise<OperationResponse>;
  /** A client-credentials token of the TPP at this bank (intent-first standards). */
  clientAccessToken(scopes: readonly string[]): Promise<string>;
  /** `<publicUrl>/callback/<bank>`: the redirect URI registered at the bank. */
  readonly callbackUrl: string;
  readonly now: () => number;
  readonly log: Logger;
}

export interface BeginInput {
  readonly request: ConsentRequest;
  /** Correlates the PSU's return: put it in the authorization request (`state`) or the redirect URI the bank gets. */
  readonly state: string;
  /** The connection being consented again, when there is one (its current consent may be reused or replaced). */
  readonly existing?: Connection;
}

/** One standard's way to obtain, follow and end a consent. See the top of this file. */
export interface ConsentProtocol {
  /** The name `banks.<bank>.consent.protocol` selects. */
  readonly name: string;
  /** True when `begin` can authorise a consent resource the caller created (`ConsentRequest.consentId`). */
  readonly authorisesExisting?: boolean;
  /** The request terms this protocol carries to the bank; any other a caller sets is refused before `begin`. */
  readonly terms: readonly ConsentTerm[];
  begin(context: ConsentContext, input: BeginInput): Promise<Step>;
  /** `session` is what the last `pending` step returned; `oauth` its authorization-code step, if any. */
  continue(context: ConsentContext, pending: { readonly session: SessionData; readonly oauth?: OAuthStep; readonly state: string }, input: ContinueInput, connection: Connection): Promise<Step>;
  /** Reads the consent at the bank. A protocol without a consent resource answers from the connection. */
  status(context: ConsentContext, connection: Connection): Promise<ConsentStatus>;
  /** Ends the consent at the bank; the engine forgets the connection whatever the outcome. */
  revoke(context: ConsentContext, connection: Connection): Promise<RevocationOutcome>;
  /**
   * What each bank call acting for the connection carries; `route` is the operation called (a protocol may bind its
   * credentials to some operations only: Berlin Group's consent and its token belong to the account reads).
   */
  callCredentials(connection: Connection, route?: RouteFacts): CallCredentials;
  /**
   * True when a call of this operation reads account data for the consent and, made without the PSU present,
   * counts against its `frequencyPerDay` (the unattended-access budget).
   */
  countsAsUnattendedRead(route: RouteFacts): boolean;
  /**
   * Why the gateway cannot serve this operation of the bank yet (UK Open Banking: a payment type whose consent it
   * cannot have authorised), in words for the caller; undefined when it can. Such a call answers 501
   * `operation_not_supported` before anything is sent to the bank.
   */
  unsupported?(route: RouteFacts): string | undefined;
}

/** What a protocol reads of an operation: its method, id and declared headers. */
export interface RouteFacts {
  readonly method: string;
  readonly operationId: string;
  readonly headers: readonly { readonly name: string; readonly required: boolean }[];
}
