/**
 * The bank transport: how bankgate talks to one bank. One interface, so that Node (undici, mTLS with a
 * QWAC) and edge runtimes (a Workers `mtls_certificates` binding, `Deno.createHttpClient`) plug in the same way.
 *
 * Bodies are buffered on purpose: bank responses are small, paginated JSON; signing needs the request bytes;
 * the gateway maps bank errors and enforces a size limit. Nothing here ever logs a header value.
 */

export interface BankRequest {
  /** Upper-case HTTP method. */
  readonly method: string;
  /** Scheme, host and port only: `https://api.bank.example:443`. Never taken from the caller. */
  readonly origin: string;
  /** Path and query, already built from the route template and encoded: `/ais/v7/identified2/accounts?x=1`. */
  readonly path: string;
  /** Lower-case header names. The transport adds signing headers where the bank asks for them. */
  readonly headers: Record<string, string>;
  readonly body?: Uint8Array;
  readonly signal?: AbortSignal;
}

export interface BankResponse {
  readonly status: number;
  /** Lower-case names; hop-by-hop headers already removed. */
  readonly headers: Record<string, string | string[]>;
  readonly body: Uint8Array;
}

export interface BankTransport {
  /** Sends one request to the bank. Throws `BankgateError` with a `bank_*` code on transport failure. */
  send(request: BankRequest): Promise<BankResponse>;
  /**
   * WHATWG fetch over the same client identity (mTLS certificate, pinned CA): for oauth4webapi's
   * `customFetch` (token endpoints) and for the generated typescript-fetch SDKs' `fetchApi`.
   */
  readonly fetch: typeof fetch;
  /** Closes pooled connections. */
  close(): Promise<void>;
  /**
   * SHA-256 thumbprint (base64url, the `x5t#S256` of RFC 8705) of the client certificate new connections
   * present now. It changes when the certificate is rotated; certificate-bound tokens obtained under another
   * thumbprint must then be re-obtained. Absent when the transport has no client certificate of its own.
   */
  readonly clientCertificateThumbprint?: () => string | undefined;
}
