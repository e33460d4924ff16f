import { BankgateError } from '../errors/bankgate-error.js';
import { chunksOf, readBoundedBody } from '../transport/read-body.js';

/** The default limit of an inbound request body (`banks.<bank>.transport.maxRequestBytes`). */
export const DEFAULT_MAX_REQUEST_BYTES = 1024 * 1024;

/** The 413 a body over `maxBytes` gets, in every framing. */
export function requestBodyTooLarge(maxBytes: number): BankgateError {
  return new BankgateError('payload_too_large', { status: 413, detail: `the request body is larger than the ${maxBytes} bytes accepted here`, extra: { maxBytes } });
}

/**
 * Throws the 413 when a declared `Content-Length` is over `maxBytes` (checked before reading anything). An
 * unparsable value is left to the framing's HTTP parser, and the limit is enforced while reading anyway.
 */
export function checkDeclaredLength(contentLength: string | null | undefined, maxBytes: number): void {
  if (contentLength === null || contentLength === undefined || !/^\d+$/.test(contentLength.trim())) return;
  if (Number(contentLength.trim()) > maxBytes) throw requestBodyTooLarge(maxBytes);
}

/**
 * Reads a request body (a Web stream: the Hono framing, edge runtimes) into one buffer, never holding more
 * than `maxBytes`: the declared length is checked first, the running total while reading; past the limit
 * the stream is cancelled and the 413 thrown.
 */
export function readBoundedRequestBody(body: ReadableStream<Uint8Array> | null, contentLength: string | null | undefined, maxBytes: number): Promise<Uint8Array> {
  checkDeclaredLength(contentLength, maxBytes);
  return readBoundedBody(chunksOf(body), maxBytes, undefined, () => {}, requestBodyTooLarge);
}
