import { BankgateError } from '../errors/bankgate-error.js';
import { redact, type Logger } from '../log.js';

export const PROBLEM_TYPE_BASE = 'https://bankgate.dev/problems/';

const TITLES: Record<string, string> = {
  unauthorized: 'Caller not authenticated',
  forbidden: 'Caller not allowed',
  route_not_found: 'No such operation',
  method_not_allowed: 'Method not allowed',
  bad_request: 'Bad request',
  payload_too_large: 'Request body too large',
  path_rejected: 'Path rejected',
  missing_header: 'Required header missing',
  connection_required: 'X-Connection-Id required',
  connection_not_found: 'Connection not found',
  connection_pending: 'Consent not finished',
  connection_bank_mismatch: 'Connection belongs to another bank',
  reconsent_required: 'PSU consent required again',
  consent_failed: 'Consent failed',
  consent_in_progress: 'Consent step already in progress',
  psu_data_rejected: "The bank refused the PSU's data",
  unattended_budget_exhausted: 'Unattended-access budget spent',
  payment_not_found: 'Payment not found',
  idempotency_key_reused: 'Idempotency-Key in use',
  operation_not_supported: 'Operation not supported yet',
  unknown_bank: 'Unknown bank',
  bank_tls_error: 'TLS handshake with the bank failed',
  bank_outcome_unknown: 'The bank closed the call without answering: its outcome is unknown',
  bank_certificate_untrusted: "The bank's server certificate is not trusted",
  bank_unreachable: 'Bank unreachable',
  bank_timeout: 'Bank timed out',
  bank_response_too_large: 'Bank response too large',
  bank_response_undecodable: 'Bank response could not be decoded',
  bank_circuit_open: 'Bank temporarily unavailable (circuit open)',
  bank_auth_error: "Error at the bank's authorization server",
  token_refresh_failed: 'Token refresh failed',
  bank_bad_request: 'The bank rejected the request',
  bank_unauthorized: "The bank did not accept the gateway's token",
  bank_forbidden: "The PSU's consent does not cover this",
  bank_not_found: 'The bank has no such resource',
  bank_conflict: 'The bank reports a conflict',
  bank_rate_limited: 'The bank limits the rate of calls',
  bank_client_error: 'The bank refused the request',
  bank_server_error: 'The bank failed',
  bank_response_invalid: "The bank's response does not match its spec",
  store_unavailable: 'Token store unavailable',
  config_invalid: 'Gateway misconfigured',
  internal_error: 'Internal error',
};

/** An RFC 9457 problem document. `code` is stable; `detail` never carries a token or a secret. */
export function problemBody(error: BankgateError, instance?: string): Record<string, unknown> {
  return {
    type: PROBLEM_TYPE_BASE + error.code.replace(/_/g, '-'),
    title: TITLES[error.code] ?? error.code,
    status: error.status,
    code: error.code,
    detail: redact(error.message),
    ...(error.bank ? { bank: error.bank } : {}),
    ...(instance ? { instance } : {}),
    ...error.extra,
  };
}

export function problemResponse(error: BankgateError, instance?: string, headers?: Record<string, string>): Response {
  return new Response(JSON.stringify(problemBody(error, instance)), {
    status: error.status,
    headers: { 'content-type': 'application/problem+json', ...headers },
  });
}

/** A problem answer without framing: status, headers and the JSON text. */
export interface ProblemReply {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: string;
}

/**
 * What any request that failed answers, on every framing (Hono's `onError`, the Node fast path): anything
 * thrown becomes a problem; server-side failures are logged with their code and the class of their cause
 * (never an unknown error's message, which might echo a secret); a 405 lists the allowed methods.
 */
export function problemReply(thrown: unknown, instance: string, log: Logger, requestId?: string): ProblemReply {
  const problem = asBankgateError(thrown);
  if (problem.status >= 500) log.error('request.failed', { requestId, code: problem.code, detail: problem.message, path: instance, cause: describeCause(problem.cause) });
  const headers: Record<string, string> = { 'content-type': 'application/problem+json' };
  if (problem.code === 'method_not_allowed') headers.allow = (problem.extra?.allowed as string[]).join(', ');
  if (typeof problem.extra?.retryAfterSeconds === 'number') headers['retry-after'] = String(problem.extra.retryAfterSeconds);
  return { status: problem.status, headers, body: JSON.stringify(problemBody(problem, instance)) };
}

/** The code and class of a cause chain, for logs: never the message of an unknown error (it might echo a secret). */
function describeCause(cause: unknown): string | undefined {
  if (!cause) return undefined;
  const error = cause as { name?: string; code?: string; message?: string };
  return [error.name, error.code, error instanceof BankgateError ? error.message : undefined].filter(Boolean).join(' ');
}

/** Anything thrown becomes a BankgateError: unknown errors are internal and say nothing of their content. */
export function asBankgateError(error: unknown): BankgateError {
  if (error instanceof BankgateError) return error;
  return new BankgateError('internal_error', { status: 500, detail: 'the gateway failed unexpectedly; the request id in the logs has the details', cause: error });
}
