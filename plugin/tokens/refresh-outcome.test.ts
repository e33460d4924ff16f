import * as oauth from 'oauth4webapi';
import { describe, expect, it } from 'vitest';
import { BankgateError } from '../errors/bankgate-error.js';
import { BankServerError, classifyAttemptFailure, isSilentClose } from './refresh-outcome.js';

const transport = (code: 'bank_unreachable' | 'bank_timeout' | 'bank_tls_error', reason?: string) =>
  new BankgateError(code, { status: 502, detail: 'x', extra: reason ? { reason } : undefined });

describe('classifyAttemptFailure: may the bank have rotated the refresh token?', () => {
  it('unknown when the request may have been processed', () => {
    expect(classifyAttemptFailure(new BankServerError(503))).toBe('unknown');
    expect(classifyAttemptFailure(transport('bank_timeout', 'UND_ERR_HEADERS_TIMEOUT'))).toBe('unknown');
    expect(classifyAttemptFailure(transport('bank_unreachable', 'UND_ERR_SOCKET'))).toBe('unknown');
    expect(classifyAttemptFailure(transport('bank_unreachable', 'ECONNRESET'))).toBe('unknown');
    expect(classifyAttemptFailure(new DOMException('late', 'TimeoutError'))).toBe('unknown');
  });

  it('failed when the request provably never reached the token logic', () => {
    expect(classifyAttemptFailure(transport('bank_unreachable', 'ECONNREFUSED'))).toBe('failed');
    expect(classifyAttemptFailure(transport('bank_tls_error'))).toBe('failed');
    expect(classifyAttemptFailure(transport('bank_tls_error', 'ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED'))).toBe('failed');
  });

  it('unknown for a silent close after the handshake: a dropped answer on a fresh connection looks the same as a refused certificate (a loaded machine sees it)', () => {
    expect(classifyAttemptFailure(transport('bank_tls_error', 'ERR_BANKGATE_TLS_HANDSHAKE_REJECTED'))).toBe('unknown');
    expect(classifyAttemptFailure(transport('bank_tls_error', 'ECONNRESET'))).toBe('unknown');
    expect(isSilentClose(transport('bank_tls_error', 'ERR_BANKGATE_TLS_HANDSHAKE_REJECTED'))).toBe(true);
    expect(isSilentClose(transport('bank_tls_error', 'ERR_SSL_TLSV1_ALERT_UNKNOWN_CA'))).toBe(false);
    expect(isSilentClose(transport('bank_unreachable', 'ECONNRESET'))).toBe(false);
  });

  it('invalid_grant when the bank says the grant is dead', async () => {
    const response = new Response(JSON.stringify({ error: 'invalid_grant' }), { status: 400, headers: { 'content-type': 'application/json' } });
    const as = { issuer: 'https://as.example', token_endpoint: 'https://as.example/token' };
    const error = await oauth.processRefreshTokenResponse(as, { client_id: 'c' }, response).catch((e: unknown) => e);
    expect(classifyAttemptFailure(error)).toBe('invalid_grant');
  });
});
