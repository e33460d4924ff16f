/**
 * Berlin Group errors as the bank answers them: `{"tppMessages":[{"category":"ERROR","code":…,"text":…}]}`
 * (`Error4xx_NG_AIS` / `_PIS` of the 1.3.9 spec), with the codes of the Implementation Guidelines' error tables.
 * The bank's rules throw a `BgError`; the resource server turns it into the answer.
 */

export type BgErrorCode =
  | 'FORMAT_ERROR'
  | 'PARAMETER_NOT_SUPPORTED'
  | 'SERVICE_INVALID'
  | 'RESOURCE_UNKNOWN'
  | 'RESOURCE_EXPIRED'
  | 'PERIOD_INVALID'
  | 'SCA_INVALID'
  | 'SCA_METHOD_UNKNOWN'
  | 'PRODUCT_INVALID'
  | 'PRODUCT_UNKNOWN'
  | 'CANCELLATION_INVALID'
  | 'CERTIFICATE_INVALID'
  | 'PSU_CREDENTIALS_INVALID'
  | 'CONSENT_INVALID'
  | 'CONSENT_EXPIRED'
  | 'CONSENT_UNKNOWN'
  | 'TOKEN_UNKNOWN'
  | 'TOKEN_INVALID'
  | 'TOKEN_EXPIRED'
  | 'STATUS_INVALID'
  | 'ACCESS_EXCEEDED'
  | 'INTERNAL_SERVER_ERROR'
  | 'SERVICE_UNAVAILABLE';

export class BgError extends Error {
  override readonly name = 'BgError';

  constructor(
    readonly status: number,
    readonly code: BgErrorCode,
    text: string,
    readonly extra: {
      /** `tppMessages[].path`: the request element at fault. */
      readonly path?: string;
      /** `_links` of the error body (a pre-step 401 points at the OAuth server: `scaOAuth`). */
      readonly links?: Record<string, { href: string }>;
      readonly headers?: Record<string, string>;
    } = {},
  ) {
    super(text);
  }
}

/** tppMessage `text` is at most 500 characters in the spec. */
const MAX_TEXT = 500;

export function bgErrorResponse(error: BgError, requestId: string | null): Response {
  const headers: Record<string, string> = { 'content-type': 'application/json', ...(error.extra.headers ?? {}) };
  if (requestId) headers['x-request-id'] = requestId;
  if (error.status === 401 && error.code.startsWith('TOKEN_')) headers['www-authenticate'] = 'Bearer error="invalid_token"';
  const message = { category: 'ERROR', code: error.code, ...(error.extra.path ? { path: error.extra.path } : {}), text: error.message.slice(0, MAX_TEXT) };
  return new Response(JSON.stringify({ tppMessages: [message], ...(error.extra.links ? { _links: error.extra.links } : {}) }), {
    status: error.status,
    headers,
  });
}
