import * as oauth from 'oauth4webapi';
import { BankgateError } from '../errors/bankgate-error.js';

/**
 * Turns an oauth4webapi or transport failure at a bank's authorization server into a BankgateError whose
 * detail names the bank and the OAuth error code only: never a token, a code or a secret.
 */
export function toOAuthError(bank: string, step: string, error: unknown): BankgateError {
  if (error instanceof BankgateError) return error;
  if (error instanceof oauth.ResponseBodyError) {
    const description = typeof error.error_description === 'string' ? `: ${error.error_description.slice(0, 200)}` : '';
    return new BankgateError('bank_auth_error', {
      status: 502,
      bank,
      detail: `bank ${bank} refused the ${step} (HTTP ${error.status}, ${error.error}${description})`,
      cause: error,
      extra: { oauthError: error.error },
    });
  }
  if (error instanceof oauth.AuthorizationResponseError) {
    return new BankgateError('consent_failed', {
      status: 400,
      bank,
      detail: `bank ${bank} ended the consent with ${error.error}${error.error_description ? `: ${error.error_description.slice(0, 200)}` : ''}`,
      cause: error,
      extra: { oauthError: error.error },
    });
  }
  if (error instanceof oauth.WWWAuthenticateChallengeError) {
    return new BankgateError('bank_auth_error', { status: 502, bank, detail: `bank ${bank} answered the ${step} with HTTP ${error.status} and a WWW-Authenticate challenge`, cause: error });
  }
  if (error instanceof oauth.OperationProcessingError || error instanceof oauth.UnsupportedOperationError) {
    return new BankgateError('bank_auth_error', { status: 502, bank, detail: `bank ${bank} gave an invalid ${step} response: ${error.message}`, cause: error });
  }
  return new BankgateError('bank_auth_error', { status: 502, bank, detail: `${step} at bank ${bank} failed: ${(error as Error)?.message ?? String(error)}`, cause: error });
}
