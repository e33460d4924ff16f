import { BankgateError } from '../errors/bankgate-error.js';

/**
 * The store could not be reached or answered wrongly: a 503 the caller may retry. `what` names the store
 * (`redis 127.0.0.1:6379/0`, never a password); `reason` is an error code, never a message that could echo data.
 */
export function storeUnavailable(what: string, cause: unknown): BankgateError {
  if (cause instanceof BankgateError) return cause;
  const code = (cause as { code?: unknown })?.code;
  const name = cause instanceof Error ? cause.name : typeof cause;
  const reason = typeof code === 'string' ? code : name;
  return new BankgateError('store_unavailable', {
    status: 503,
    detail: `the token store (${what}) is unavailable (${reason}); no connection is lost: retry shortly`,
    cause,
    extra: { retryable: true },
  });
}
