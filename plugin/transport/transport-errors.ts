/**
 * Errors the transport raises itself before `classifyTransportError` turns them into `BankgateError`s.
 * Each carries a stable `code`, like undici's `UND_ERR_*`, so the classifier matches codes, never messages.
 */

/** The response body went over `maxResponseBytes` (declared by `content-length` or counted while reading). */
export class ResponseTooLargeError extends Error {
  readonly code = 'ERR_BANKGATE_RESPONSE_TOO_LARGE';
  constructor(readonly limit: number) {
    super(`response body larger than ${limit} bytes`);
    this.name = 'ResponseTooLargeError';
  }
}

/**
 * The bank closed a fresh TLS connection before sending a single byte and without a session ticket: it
 * rejected the handshake after the client thought it complete (TLS 1.3 verifies the client certificate after
 * the client's Finished; some servers, Node's among them, close without an alert). `alert` holds the TLS
 * alert error when one arrived.
 */
export class HandshakeRejectedError extends Error {
  readonly code = 'ERR_BANKGATE_TLS_HANDSHAKE_REJECTED';
  constructor(readonly protocol: string | null, cause?: Error) {
    super(`the server closed the ${protocol ?? 'TLS'} connection right after the handshake`, cause ? { cause } : undefined);
    this.name = 'HandshakeRejectedError';
  }
}

/**
 * The bank closed (or reset) a connection without a byte of answer, and a diagnostic handshake showed it
 * accepts our certificate: a dropped connection, not a refusal. The request may have reached the bank.
 * The transport's original error is kept in `closed`, not as `cause`: its chain holds the suspected
 * `HandshakeRejectedError` the classifier would otherwise prefer.
 */
export class ConnectionClosedError extends Error {
  readonly code = 'ERR_BANKGATE_CONNECTION_CLOSED';
  constructor(readonly closed: unknown) {
    super('the bank closed the connection before answering (a diagnostic handshake was accepted)');
    this.name = 'ConnectionClosedError';
  }
}

/** One attempt went past `timeouts.totalMs` (headers and body together), however steadily the bank trickled. */
export class AttemptDeadlineError extends Error {
  readonly code = 'ERR_BANKGATE_ATTEMPT_DEADLINE';
  constructor(readonly timeoutMs: number) {
    super(`no complete answer within ${timeoutMs} ms`);
    this.name = 'AttemptDeadlineError';
  }
}

/** A fetch-based transport gave up waiting for the bank (its own `timeoutMs`, not the caller's signal). */
export class FetchTimeoutError extends Error {
  readonly code = 'ERR_BANKGATE_FETCH_TIMEOUT';
  constructor(readonly timeoutMs: number, cause: unknown) {
    super(`no answer within ${timeoutMs} ms`, { cause });
    this.name = 'FetchTimeoutError';
  }
}

/** The bank's body does not decode under the `content-encoding` it declared (corrupt gzip, truncated brotli…). */
export class UndecodableResponseError extends Error {
  readonly code = 'ERR_BANKGATE_UNDECODABLE_RESPONSE';
  constructor(readonly coding: string, cause: unknown) {
    super(`the response body is not valid ${coding}`, { cause });
    this.name = 'UndecodableResponseError';
  }
}
