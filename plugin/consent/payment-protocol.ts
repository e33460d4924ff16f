/**
 * The payment-authorisation interface: how a payment initiated through the gateway is authorised by the PSU and
 * followed to its final status, whatever the bank's standard. The caller initiates the payment with the bank's own
 * operation (`POST /bg/xs2a/v1/payments/sepa-credit-transfers`, `POST /sg/pisp/payment-requests`); the gateway
 * (payments/payment-engine.ts) then runs the bank's payment protocol around that call:
 *
 *   prepare(context, input)             before the bank sees it: what the gateway owns in the initiation (the
 *                                       redirect or report URLs, which carry the payment's `state` back to the
 *                                       gateway's callback; the SCA approach preference)
 *   initiated(context, input) → Step    the bank's 2xx answer: the payment's id and the PSU's `nextAction` (a protocol
 *                                       may start the SCA itself, e.g. choosing the SCA method the caller prefers)
 *   continue(context, record, in) → Step  the PSU back at the callback, PSU data (embedded), a poll (decoupled)
 *   status(context, record)             the payment's status at the bank and whether it is final
 *
 * The same `NextAction`, `ContinueInput` and `ConsentContext` as consents (protocol.ts): a payment's authorisation is
 * a consent to one transaction. Intent-first standards (UK Open Banking) authorise a payment consent first and submit
 * the payment after; they implement `ConsentProtocol` for the consent and may implement this for the submission.
 */
import type { ConsentContext, ContinueInput, NextAction, OAuthStep, OperationResponse, PsuContext, ScaApproach, SessionData, StatusReason } from './protocol.js';

export interface PaymentPrepareInput {
  /** The operation the caller called (`initiatePayment`, `paymentRequestsPost`), with its path parameters. */
  readonly operationId: string;
  readonly api: string;
  readonly params: Readonly<Record<string, string>>;
  /** Correlates the PSU's return; carried in the redirect or report URLs the gateway gives the bank. */
  readonly state: string;
  readonly preferredApproach?: ScaApproach;
  readonly psu: PsuContext;
  /** The caller's JSON body (undefined when there is none). */
  readonly body: unknown;
}

export interface PreparedInitiation {
  /** Lower-case headers the gateway owns in this initiation (`tpp-redirect-uri`, `tpp-decoupled-preferred`, …). */
  readonly headers: Readonly<Record<string, string>>;
  /** The body to send instead of the caller's (STET: the report URLs point at the gateway); undefined: the caller's. */
  readonly body?: unknown;
  /** Where the caller wanted the PSU sent back, when the standard carries it in the body (STET report URLs). */
  readonly returnTo?: string;
  readonly nokReturnTo?: string;
}

/** What the gateway keeps of a payment between steps (JSON, no secret but what `session` needs). */
export interface PaymentRecord {
  readonly protocol: string;
  readonly api: string;
  /** The bank's id of the payment. */
  readonly paymentId: string;
  /** The payment resource at the bank, under the API's base URL (`/v1/payments/sepa-credit-transfers/<id>`). */
  readonly resourcePath: string;
  /** `pending` until the PSU authorised it, then `authorised`; `failed` when the SCA failed or the bank rejected it. */
  readonly authorisation: 'pending' | 'authorised' | 'failed';
  /** The bank's transaction status (ISO 20022: RCVD, ACSP, ACSC, RJCT, …) when last read. */
  readonly transactionStatus?: string;
  /** True once `transactionStatus` cannot change any more (ACSC, RJCT, CANC, …). */
  readonly final: boolean;
  readonly session: SessionData;
  readonly reason?: StatusReason;
  /** The connection the payment was initiated for. */
  readonly connectionId?: string;
  /** Epoch ms of the last status read. */
  readonly checkedAt?: number;
  /** The first answer to the initiation (a retry with the same `Idempotency-Key` gets it again). No secret in it. */
  readonly reply?: { readonly status: number; readonly body: string; readonly contentType?: string };
}

export type PaymentStep =
  | { readonly outcome: 'pending'; readonly nextAction: NextAction; readonly session: SessionData; readonly oauth?: OAuthStep }
  | { readonly outcome: 'authorised'; readonly session: SessionData; readonly transactionStatus?: string }
  | { readonly outcome: 'failed'; readonly reason: StatusReason; readonly session: SessionData; readonly transactionStatus?: string };

export interface PaymentStatus {
  readonly transactionStatus: string;
  readonly final: boolean;
  readonly reason?: StatusReason;
}

/** One standard's way to get a payment authorised and followed. See the top of this file. */
export interface PaymentProtocol {
  readonly name: string;
  prepare(context: ConsentContext, input: PaymentPrepareInput): PreparedInitiation;
  initiated(context: ConsentContext, input: { readonly request: PaymentPrepareInput; readonly response: OperationResponse }): Promise<{ readonly record: Omit<PaymentRecord, 'session' | 'authorisation' | 'final'>; readonly step: PaymentStep }>;
  /** `state`: the payment's pending `state` (the OAuth SCA checks it in the authorization response). */
  continue(context: ConsentContext, payment: PaymentRecord & { readonly oauth?: OAuthStep; readonly state: string }, input: ContinueInput): Promise<PaymentStep>;
  status(context: ConsentContext, payment: PaymentRecord): Promise<PaymentStatus>;
}
