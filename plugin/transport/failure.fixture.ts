import { expect } from 'vitest';
import { BankgateError } from '../errors/bankgate-error.js';

/** The BankgateError `promise` rejects with (tests fail when it resolves or rejects with anything else). */
export async function failure(promise: Promise<unknown>): Promise<BankgateError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(BankgateError);
  return error as BankgateError;
}
