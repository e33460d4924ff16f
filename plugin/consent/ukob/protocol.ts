/**
 * The slice of the consent-protocol interface (contracts.md §4; `plugin/consent/protocol.ts` on branch `consent`) the
 * UK Open Banking protocol uses, written here while that interface is not on main. Names, shapes and signatures are
 * that interface's, narrowed to what this protocol needs, so that at merge `ukOpenBanking` registers as it is and this
 * file is deleted (imports point at `../protocol.js`):
 *
 *   here                         plugin/consent/protocol.ts (branch `consent`)
 *   NextAction (redirect)        NextAction
 *   Step, OAuthStep, SessionData the same (pending | authorised | failed)
 *   ConsentRecord, StatusReason  the same (fewer optional members)
 *   ConsentStatus                the same
 *   UkobConsentRequest           ConsentRequest's `psu.ipAddress` and `scopes`, plus `consentId` (an intent the caller
 *                                created through the gateway: to add to ConsentRequest at merge)
 *   ContinueInput (callback)     ContinueInput
 *   BeginInput                   BeginInput (`request`, `state`, `existing`)
 *   CallCredentials              the same
 *   UkobContext                  ConsentContext without `call` (intents go through operations.ts over `transport`)
 *   ConsentProtocol              ConsentProtocol
 *
 * A protocol never touches the store and never sees the caller: the engine (here engine-bridge.ts) keeps the pending
 * session on the connection, finds it again by `state`, and writes the outcome.
 */
import type { ResolvedBank } from '../../config/resolve-config.js';
import type { Logger } from '../../log.js';
import type { Connection, TokenSet } from '../../store/connection.js';
import type { BankOAuth } from '../../tokens/authorization-server.js';
import type { RevocationOutcome } from '../../tokens/revoke.js';
import type { BankTransport } from '../../transport/types.js';

/** What the PSU must do next (UK Open Banking: always a redirect to the bank's authorization endpoint). */
export type NextAction = { readonly type: 'redirect'; readonly url: string };

/** The consent as the bank holds it, kept on the connection. Never a secret in it. */
export interface ConsentRecord {
  readonly protocol: string;
  /** The bank's id of the consent (`Data.ConsentId`). */
  readonly id?: string;
  /** The bank's status word (`AWAU`, `AUTH`, `RJCT`, `EXPD`, `CANC`, `COND`, …). */
  readonly status?: string;
  readonly checkedAt?: number;
  /** Protocol-specific facts (JSON, no secret): the intent's kind, a submitted payment's id. */
  readonly data?: Readonly<Record<string, unknown>>;
}

export type SessionData = Readonly<Record<string, unknown>>;

/** An authorization-code step in progress: what the callback needs to redeem the code. */
export interface OAuthStep {
  readonly codeVerifier: string;
  readonly nonce?: string;
  readonly redirectUri: string;
}

/** Why something ended or failed: a stable code and words for people (never a secret, never a PSU identifier). */
export interface StatusReason {
  readonly code: string;
  readonly detail: string;
}

export type Step =
  | { readonly outcome: 'pending'; readonly nextAction: NextAction; readonly session: SessionData; readonly oauth?: OAuthStep; readonly consent?: ConsentRecord }
  | { readonly outcome: 'authorised'; readonly consent: ConsentRecord; readonly tokens?: TokenSet; readonly scopes?: readonly string[]; readonly subject?: string }
  | { readonly outcome: 'failed'; readonly reason: StatusReason; readonly consent?: ConsentRecord };

/** What a caller asks for (the members of ConsentRequest this protocol reads, and `consentId`). */
export interface UkobConsentRequest {
  /** `accounts` (a new account-access consent), or with `consentId` the intent's one scope. */
  readonly scopes?: readonly string[];
  readonly psu: { readonly ipAddress?: string };
  /** An intent the caller created through the gateway (payment, funds confirmation, account access) to authorise. */
  readonly consentId?: string;
}

export interface BeginInput {
  readonly request: UkobConsentRequest;
  /** Correlates the PSU's return: sent as the authorization request's `state`. */
  readonly state: string;
  readonly existing?: Connection;
}

export type ContinueInput = { readonly kind: 'callback'; readonly url: URL };

/** The consent at the bank now. */
export interface ConsentStatus {
  readonly state: 'active' | 'ended' | 'unknown';
  readonly consent?: ConsentRecord;
  readonly reason?: StatusReason;
}

/** What every bank call acting for a connection carries. */
export interface CallCredentials {
  readonly headers: Readonly<Record<string, string>>;
  readonly token: 'required' | 'optional' | 'none';
}

/** What the protocol gets to talk to one bank. */
export interface UkobContext {
  readonly bank: ResolvedBank;
  readonly oauth: BankOAuth;
  /** The bank's transport (mTLS; DPoP for a DPoP bank). */
  readonly transport: BankTransport;
  /** A client-credentials token of the TPP at this bank (intents). */
  clientAccessToken(scopes: readonly string[]): Promise<string>;
  /** `<publicUrl>/callback/<bank>`, registered at the bank. */
  readonly callbackUrl: string;
  readonly now: () => number;
  readonly log: Logger;
  /** Bounds the code exchange of a callback (its state claim must outlive it: tokens/state-claim.ts). */
  readonly signal?: AbortSignal;
}

export interface ConsentProtocol {
  readonly name: string;
  begin(context: UkobContext, input: BeginInput): Promise<Step>;
  continue(context: UkobContext, pending: { readonly session: SessionData; readonly oauth?: OAuthStep; readonly state: string }, input: ContinueInput, connection: Connection): Promise<Step>;
  /** Reads the consent at the bank. */
  status(context: UkobContext, connection: Connection): Promise<ConsentStatus>;
  /** Ends the consent at the bank (the intent deleted, which ends its tokens). */
  revoke(context: UkobContext, connection: Connection): Promise<RevocationOutcome>;
  callCredentials(connection: Connection): CallCredentials;
  countsAsUnattendedRead(route: { readonly method: string; readonly operationId: string; readonly headers: readonly { readonly name: string; readonly required: boolean }[] }): boolean;
}
