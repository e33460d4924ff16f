/**
 * Applies the bank's signing configuration to one outgoing request: adds `digest` (always, so that the body
 * is bound to the signature), `date` when it is to be signed and absent, `tpp-signature-certificate` when the
 * QSeal certificate is configured, and `signature`. Shared by every transport and by `npm run sign`, so that
 * Node, edge and the operator's tool sign alike.
 */
import { BankgateError } from '../errors/bankgate-error.js';
import type { ResolvedSigning } from './signing-options.js';
import { digestHeader, MissingSignedHeaderError, signatureHeader } from './signing.js';

const EMPTY = new Uint8Array(0);

export interface SignableRequest {
  readonly method: string;
  readonly path: string;
  /** Lower-case names, exactly the headers that will be sent. */
  readonly headers: Readonly<Record<string, string>>;
  readonly body?: Uint8Array;
}

/** Resolves to the headers to send: the request's own plus `digest`, `signature` and what the config adds. */
export type RequestSigner = (request: SignableRequest) => Promise<Record<string, string>>;

export function createRequestSigner(bank: string, signing: ResolvedSigning, now: () => Date = () => new Date()): RequestSigner {
  const addDate = signing.headers.includes('date');
  return async function signRequest(request) {
    // Our digest replaces any the caller sent: the bank must see the digest of the bytes we send.
    const headers: Record<string, string> = { ...request.headers, digest: await digestHeader(request.body ?? EMPTY) };
    if (addDate && headers.date === undefined) headers.date = now().toUTCString();
    // Ours replaces any the caller sent: the bank verifies with the certificate it names.
    if (signing.certificateHeader !== undefined) headers['tpp-signature-certificate'] = signing.certificateHeader;
    try {
      headers.signature = await signatureHeader({
        method: request.method,
        path: request.path,
        headers,
        keyId: signing.keyId,
        key: await signing.key,
        signedHeaders: signing.headers,
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
