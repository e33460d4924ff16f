/**
 * The one error class of bankgate. `code` is stable and machine-readable; `status` is the HTTP status the
 * Hono edge answers with; `detail` is safe to show a caller (it never holds a token or a secret).
 * Converted to problem+json (RFC 9457) only at the edge, by `toProblem()`.
 */
export type BankgateErrorCode =
  // caller side
  | 'unauthorized'
  | 'forbidden'
  | 'route_not_found'
  | 'method_not_allowed'
  | 'bad_request'
  | 'payload_too_large'
  | 'path_rejected'
  | 'missing_header'
  | 'connection_required'
  | 'connection_not_found'
  | 'connection_pending'
  | 'connection_bank_mismatch'
  | 'reconsent_required'
  | 'consent_failed'
  | 'consent_in_progress'
  | 'psu_data_rejected'
  | 'unattended_budget_exhausted'
  | 'payment_not_found'
  | 'idempotency_key_reused'
  /** 501: an operation the bank declares that bankgate cannot serve yet (a UK payment type it cannot authorise). */
  | 'operation_not_supported'
  | 'unknown_bank'
  // bank side
  | 'bank_tls_error'
  | 'bank_outcome_unknown'
  | 'bank_certificate_untrusted'
  | 'bank_unreachable'
  | 'bank_timeout'
  | 'bank_response_too_large'
  | 'bank_response_undecodable'
  | 'bank_circuit_open'
  | 'bank_auth_error'
  | 'token_refresh_failed'
  // the bank answered, with an error of its own (its body kept under `bankError`)
  | 'bank_bad_request'
  | 'bank_unauthorized'
  | 'bank_forbidden'
  | 'bank_not_found'
  | 'bank_conflict'
  | 'bank_rate_limited'
  | 'bank_client_error'
  | 'bank_server_error'
  | 'bank_response_invalid'
  // operator side
  | 'store_unavailable'
  | 'config_invalid'
  | 'host_caller_invalid'
  | 'internal_error';

export interface BankgateErrorOptions {
  readonly status: number;
  readonly detail: string;
  readonly bank?: string;
  readonly cause?: unknown;
  /** Extra members for the problem document (already free of secrets). */
  readonly extra?: Readonly<Record<string, unknown>>;
}

export class BankgateError extends Error {
  readonly code: BankgateErrorCode;
  readonly status: number;
  readonly bank?: string;
  readonly extra?: Readonly<Record<string, unknown>>;

  constructor(code: BankgateErrorCode, options: BankgateErrorOptions) {
    super(options.detail, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'BankgateError';
    this.code = code;
    this.status = options.status;
    this.bank = options.bank;
    this.extra = options.extra;
  }
}
