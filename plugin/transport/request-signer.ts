/**
 * Applies the bank's signing configuration to one outgoing request: adds `digest` (always, so that the body
 * is bound to the signature) and `signature`. Shared by every transport so that Node and edge sign alike.
 */
import { BankgateError } from '../errors/bankgate-error.js';
import type { ResolvedSigning } from './options.js';
import { digestHeader, MissingSignedHeaderError, signatureHeader } from './signing.js';

const DEFAULT_SIGNED = ['(request-target)', 'digest', 'x-request-id'] as const;
const EMPTY = new Uint8Array(0);

export interface SignableRequest {
  readonly method: string;
  readonly path: string;
  /** Lower-case names, exactly the headers that will be sent. */
  readonly headers: Readonly<Record<string, string>>;
  readonly body?: Uint8Array;
}

/** Returns the headers to send: the request's own plus `digest` and `signature`. */
export type RequestSigner = (request: SignableRequest) => Record<string, string>;

export function createRequestSigner(bank: string, signing: ResolvedSigning): RequestSigner {
  return function signRequest(request) {
    // Our digest replaces any the caller sent: the bank must see the digest of the bytes we send.
    const headers: Record<string, string> = { ...request.headers, digest: digestHeader(request.body ?? EMPTY) };
    const signedHeaders = signing.headers ?? (headers.date === undefined ? DEFAULT_SIGNED : [...DEFAULT_SIGNED, 'date']);
    try {
      headers.signature = signatureHeader({
        method: request.method,
        path: request.path,
        headers,
        keyId: signing.keyId,
        key: signing.key,
        signedHeaders,
      });
    } catch (error) {
      if (!(error instanceof MissingSignedHeaderError)) throw error;
      throw new BankgateError('missing_header', {
        status: 400,
        bank,
        cause: error,
        detail:
          `bank ${bank} requires the ${error.header} header to be signed, and the request has none. ` +
          `Send ${error.header} on the request, or change banks.${bank}.signing.headers`,
        extra: { header: error.header },
      });
    }
    return headers;
  };
}
