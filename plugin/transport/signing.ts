/**
 * draft-cavage HTTP Signatures (draft-cavage-http-signatures-10) with `rsa-sha256`, and the RFC 3230 `Digest`
 * header: what Berlin Group NextGenPSD2 and STET banks verify. Pure functions over bytes and strings on
 * WebCrypto (RSASSA-PKCS1-v1_5 is deterministic: the bytes are those `node:crypto` `createSign` gives), so
 * every runtime's transport signs identically.
 */
import { toBase64 } from '../crypto/base64.js';
import { sha256 } from '../crypto/digest.js';
import { RSA_SHA256 } from './signing-options.js';

const encoder = new TextEncoder();

/** `SHA-256=<base64 of SHA-256(body)>` (RFC 3230 instance digest). An empty body digests the empty string. */
export async function digestHeader(body: Uint8Array): Promise<string> {
  return `SHA-256=${toBase64(await sha256(body))}`;
}

export interface SignatureInput {
  /** HTTP method, any case: the signing string uses it lower-cased. */
  readonly method: string;
  /** Path and query exactly as sent on the request line. */
  readonly path: string;
  /** Lower-case header names → values, as sent. */
  readonly headers: Readonly<Record<string, string>>;
  readonly keyId: string;
  /** RSA private key (RSASSA-PKCS1-v1_5, SHA-256), imported once by the caller. */
  readonly key: CryptoKey;
  /** Lower-case names in signing order; `(request-target)` for the pseudo-header. */
  readonly signedHeaders: readonly string[];
}

/** Thrown when a header listed in `signedHeaders` is not on the request. `header` names it. */
export class MissingSignedHeaderError extends Error {
  readonly code = 'ERR_BANKGATE_MISSING_SIGNED_HEADER';
  constructor(readonly header: string) {
    super(`the request has no ${header} header, which must be signed`);
    this.name = 'MissingSignedHeaderError';
  }
}

/**
 * The signing string (draft-cavage §2.3): one `name: value` line per signed header, in order, joined by `\n`;
 * `(request-target)` is `<lower-case method> <path+query>`. Values are trimmed as the draft says.
 */
export function signingString(input: Pick<SignatureInput, 'method' | 'path' | 'headers' | 'signedHeaders'>): string {
  return input.signedHeaders
    .map((name) => {
      if (name === '(request-target)') return `(request-target): ${input.method.toLowerCase()} ${input.path}`;
      const value = input.headers[name];
      if (value === undefined) throw new MissingSignedHeaderError(name);
      return `${name}: ${value.trim()}`;
    })
    .join('\n');
}

/**
 * The `Signature` header value:
 * `keyId="…",algorithm="rsa-sha256",headers="(request-target) digest x-request-id",signature="<base64>"`.
 * RSASSA-PKCS1-v1_5 over SHA-256 of the signing string. Throws `MissingSignedHeaderError` before signing.
 */
export async function signatureHeader(input: SignatureInput): Promise<string> {
  const text = signingString(input);
  const signature = new Uint8Array(await crypto.subtle.sign(RSA_SHA256, input.key, encoder.encode(text)));
  return (
    `keyId="${input.keyId}",algorithm="rsa-sha256",` +
    `headers="${input.signedHeaders.join(' ')}",signature="${toBase64(signature)}"`
  );
}
