import { describe, expect, it } from 'vitest';
import { BankgateError } from '../errors/bankgate-error.js';
import { classifyTransportError, tlsAlertName } from './classify-error.js';
import { HandshakeRejectedError, ResponseTooLargeError } from './transport-errors.js';

// Real end-to-end cases live in node-transport.test.ts and tls-rejection.test.ts; this is the mapping table
// for codes that loopback cannot produce (DNS failures, every alert), with errors shaped as Node raises them.
function coded(code: string, message = code): Error {
  return Object.assign(new Error(message), { code });
}
const ctx = { bank: 'seb', origin: 'https://api.seb.example', timeouts: { connectMs: 1, headersMs: 2, bodyMs: 3 } };

describe('classifyTransportError', () => {
  it.each([
    ['CERT_HAS_EXPIRED', 'bank_certificate_untrusted', 502],
    ['DEPTH_ZERO_SELF_SIGNED_CERT', 'bank_certificate_untrusted', 502],
    ['ERR_TLS_CERT_ALTNAME_INVALID', 'bank_certificate_untrusted', 502],
    ['ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED', 'bank_tls_error', 502],
    ['ERR_SSL_SSLV3_ALERT_BAD_CERTIFICATE', 'bank_tls_error', 502],
    ['ERR_SSL_SSLV3_ALERT_HANDSHAKE_FAILURE', 'bank_tls_error', 502],
    ['ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION', 'bank_tls_error', 502],
    ['ERR_SSL_WRONG_VERSION_NUMBER', 'bank_tls_error', 502],
    ['ECONNREFUSED', 'bank_unreachable', 502],
    ['ENOTFOUND', 'bank_unreachable', 502],
    ['EAI_AGAIN', 'bank_unreachable', 502],
    ['UND_ERR_SOCKET', 'bank_unreachable', 502],
    ['UND_ERR_CONNECT_TIMEOUT', 'bank_timeout', 504],
    ['UND_ERR_HEADERS_TIMEOUT', 'bank_timeout', 504],
    ['UND_ERR_BODY_TIMEOUT', 'bank_timeout', 504],
    ['UND_ERR_RES_EXCEEDED_MAX_SIZE', 'bank_response_too_large', 502],
  ])('%s → %s', (code, expected, status) => {
    const error = coded(code);
    const classified = classifyTransportError(error, ctx);
    expect(classified).toBeInstanceOf(BankgateError);
    expect(classified).toMatchObject({ code: expected, status, bank: 'seb', extra: { reason: code } });
    expect(classified.cause).toBe(error);
    expect(classified.message).toMatch(/^(bank seb|TLS with bank seb)/);
    expect(classified.message).toContain('banks.seb');
  });

  it('finds the cause inside fetch\'s TypeError and prefers the most specific one', () => {
    const alert = coded('ERR_SSL_TLSV1_ALERT_UNKNOWN_CA');
    const reset = Object.assign(coded('ECONNRESET'), { cause: alert });
    const wrapped = new TypeError('fetch failed', { cause: reset });
    const classified = classifyTransportError(wrapped, ctx);
    expect(classified.code).toBe('bank_tls_error');
    expect(classified.message).toBe(
      'bank seb rejected the TLS handshake: client certificate missing or not trusted by the bank (alert: unknown ca). Check banks.seb.mtls',
    );
    expect(classifyTransportError(Object.assign(coded('ECONNRESET'), { cause: new HandshakeRejectedError('TLSv1.3') }), ctx).code).toBe(
      'bank_tls_error',
    );
  });

  it('details name the setting to change', () => {
    expect(classifyTransportError(coded('UND_ERR_HEADERS_TIMEOUT'), ctx).message).toBe(
      'bank seb did not send response headers within 2 ms. Retry later, or raise banks.seb.transport.timeouts.headersMs if the bank is known to be slow',
    );
    expect(classifyTransportError(new ResponseTooLargeError(10), { bank: 'seb' }).message).toContain('larger than 10 bytes');
    expect(classifyTransportError(coded('ECONNREFUSED'), ctx).message).toBe(
      "bank seb at https://api.seb.example could not be reached (ECONNREFUSED). Check the bank's URL in banks.seb, DNS and that the bank is up",
    );
    expect(
      classifyTransportError(coded('ECONNRESET', 'Client network socket disconnected before secure TLS connection was established'), ctx).code,
    ).toBe('bank_tls_error');
  });

  it('never copies an unknown error\'s message (it could hold anything)', () => {
    const classified = classifyTransportError(new RangeError('Bearer eyJsecret'), ctx);
    expect(classified.code).toBe('internal_error');
    expect(classified.message).not.toContain('eyJ');
  });

  it('returns a BankgateError unchanged', () => {
    const original = new BankgateError('missing_header', { status: 400, detail: 'x' });
    expect(classifyTransportError(original, ctx)).toBe(original);
  });

  it('names TLS alerts', () => {
    expect(tlsAlertName('ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED')).toBe('certificate required');
    expect(tlsAlertName('ERR_SSL_SSLV3_ALERT_BAD_CERTIFICATE')).toBe('bad certificate');
    expect(tlsAlertName('ECONNRESET')).toBeUndefined();
  });
});
