/**
 * The slice of the consent-protocol interface (contracts.md §4) the UK Open Banking protocol needs, written here
 * while the full interface (`plugin/consent/protocol.ts`, helper `consent`) is not on main. Names and shapes are
 * those of that interface, so that reconciling is an import change:
 *
 *   here                        plugin/consent/protocol.ts (branch `consent`)
 *   NextAction (redirect only)  NextAction
 *   Step                        Step (pending | authorised | failed; `consent`, `tokens`, `scopes`, `subject`)
 *   OAuthStep, SessionData      the same
 *   ConsentRecord               ConsentRecord (protocol, id, status, checkedAt, data)
 *   UkobContext                 ConsentContext minus `call` (intents go through `UkobContext.send`)
 *   ConsentProtocol             ConsentProtocol minus `callCredentials` / `countsAsUnattendedRead` (UK calls carry
 *                               the PSU token only, `token: 'required'`, no header of the protocol's own)
 *
 * A protocol never touches the store and never sees the caller: it gets the bank, its OAuth side and a way to send
 * requests, and returns plain data; the bridge (engine-bridge.ts) keeps the pending session on the connection.
 */
import type { ResolvedBank } from '../../config/resolve-config.js';
import type { Logger } from '../../log.js';
import type { Connection, TokenSet } from '../../store/connection.js';
import type { BankOAuth } from '../../tokens/authorization-server.js';
import type { RevocationOutcome } from '../../tokens/revoke.js';
import type { BankRequest, BankResponse } from '../../transport/types.js';
import type { MessagePolicy } from './message-policy.js';

/** What the PSU must do next (UK Open Banking: always a redirect to the bank's authorization endpoint). */
export type NextAction = { readonly type: 'redirect'; readonly url: string };

/** The consent as the bank holds it, kept on the connection. Never a secret in it. */
export interface ConsentRecord {
  readonly protocol: string;
  /** The bank's id of the consent (`Data.ConsentId`). */
  readonly id?: string;
  /** The bank's status word (`AWAU`, `AUTH`, `RJCT`, `EXPD`, `CANC`). */
  readonly status?: string;
  readonly checkedAt?: number;
  readonly data?: Readonly<Record<string, unknown>>;
}

export type SessionData = Readonly<Record<string, unknown>>;

/** An authorization-code step in progress: what the callback needs to redeem the code. */
export interface OAuthStep {
  readonly codeVerifier: string;
  readonly nonce?: string;
  readonly redirectUri: string;
}

export interface StatusReason {
  readonly code: string;
  readonly detail: string;
}

export type Step =
  | { readonly outcome: 'pending'; readonly nextAction: NextAction; readonly session: SessionData; readonly state: string; readonly oauth: OAuthStep; readonly consent?: ConsentRecord }
  | { readonly outcome: 'authorised'; readonly consent: ConsentRecord; readonly tokens: TokenSet; readonly scopes: readonly string[]; readonly subject?: string }
  | { readonly outcome: 'failed'; readonly reason: StatusReason; readonly consent?: ConsentRecord };

/** What a caller asks for: the PSU's context, when the PSU is present. */
export interface UkobConsentRequest {
  /** Scopes asked for: `accounts` (a new account-access consent), or with `consentId` the intent's one scope. */
  readonly scopes: readonly string[];
  /** An existing intent to authorise (a consent the caller created through the gateway: payment, funds confirmation, account access). */
  readonly consentId?: string;
  /** The PSU's IP address, sent as `x-fapi-customer-ip-address` (the PSU is present while consenting). */
  readonly psuIpAddress?: string;
}

/** What the protocol gets to talk to one bank. */
export interface UkobContext {
  readonly bank: ResolvedBank;
  readonly oauth: BankOAuth;
  /** Sends a request over the bank's transport (mTLS; DPoP for a DPoP bank). */
  send(request: BankRequest): Promise<BankResponse>;
  /** The bank's message signing and idempotency (message-policy.ts), when it has any. */
  readonly messages?: MessagePolicy;
  /** A client-credentials token of the TPP at this bank (intents). */
  clientAccessToken(scopes: readonly string[]): Promise<string>;
  /** `<publicUrl>/callback/<bank>`, registered at the bank. */
  readonly callbackUrl: string;
  readonly now: () => number;
  readonly log: Logger;
}

export type ContinueInput = { readonly kind: 'callback'; readonly url: URL };

export interface ConsentProtocol {
  readonly name: string;
  begin(context: UkobContext, request: UkobConsentRequest): Promise<Step>;
  continue(context: UkobContext, pending: { readonly session: SessionData; readonly oauth: OAuthStep; readonly state: string }, input: ContinueInput): Promise<Step>;
  /** Reads the consent at the bank. */
  status(context: UkobContext, connection: Connection): Promise<ConsentRecord | undefined>;
  /** Ends the consent at the bank (the intent deleted, the tokens revoked). */
  revoke(context: UkobContext, connection: Connection): Promise<RevocationOutcome>;
}
