import { describe, expect, it } from 'vitest';
import { bankErrorToProblem } from './bank-error.js';

const answer = (status: number, body: unknown) => ({ status, headers: { 'content-type': 'application/json' }, body: new TextEncoder().encode(JSON.stringify(body)) });

describe('bankErrorToProblem: a bank 401', () => {
  it('about the gateway’s token is the gateway’s problem: 502 bank_unauthorized', () => {
    const problem = bankErrorToProblem('bg', 'getAccountList', answer(401, { tppMessages: [{ category: 'ERROR', code: 'TOKEN_INVALID', text: 'the token is not valid' }] }));
    expect(problem).toMatchObject({ code: 'bank_unauthorized', status: 502 });
  });

  it('about the PSU identity the caller sent (Berlin Group PSU_CREDENTIALS_INVALID, CORPORATE_ID_INVALID) is the caller’s: 400', () => {
    for (const code of ['PSU_CREDENTIALS_INVALID', 'CORPORATE_ID_INVALID']) {
      const problem = bankErrorToProblem('bg', 'initiatePayment', answer(401, { tppMessages: [{ category: 'ERROR', code, text: 'PSU-ID is not a customer of this bank' }] }));
      expect(problem).toMatchObject({ code: 'bank_bad_request', status: 400 });
      expect(problem.message).toContain(code);
    }
  });
});
