/**
 * The UK-OB-like bank's error answers, as the Read/Write 4.0 spec shapes them: `OBErrorResponse1` with 4-character
 * `ErrorCode`s from `OBExternalStatusReason1Code` on 400/403/5xx; no body on 401 (a `WWW-Authenticate` challenge
 * instead) and on 404 (a path the API does not have). An unknown resource id is a 400 `U011`, not a 404.
 */
import { randomUUID } from 'node:crypto';
import type { ErrorKind } from '../resource-server.js';

/** The 4.0 error codes the sandbox uses (OB_Internal_CodeSet, `OBExternalStatusReason1Code`). */
export const OB_ERROR = {
  unexpected: 'U000',
  fieldInvalid: 'U002',
  fieldInvalidDate: 'U003',
  headerInvalid: 'U006',
  headerMissing: 'U007',
  consentMismatch: 'U008',
  invalidConsentStatus: 'U009',
  invalidFormat: 'U010',
  notFound: 'U011',
  /** UK.OBIE.Rules.FailsControlParameters: a VRP over one of its consent's limits. */
  failsControlParameters: 'U014',
  signatureInvalid: 'U015',
  signatureInvalidClaim: 'U016',
  signatureMissingClaim: 'U017',
  signatureMalformed: 'U018',
  signatureMissing: 'U019',
  unsupportedCurrency: 'U023',
  unsupportedScheme: 'U027',
  reauthenticate: 'U028',
  /** UK.OBIE.OtherReason: the sandbox's code for a 403 that none of the above names (wrong token kind, permission). */
  otherReason: 'U042',
} as const;

export type ObErrorCode = (typeof OB_ERROR)[keyof typeof OB_ERROR];

const REASONS: Record<number, string> = { 400: 'Bad Request', 403: 'Forbidden', 409: 'Conflict', 415: 'Unsupported Media Type', 429: 'Too Many Requests', 500: 'Internal Server Error', 501: 'Not Implemented', 503: 'Service Unavailable' };
const JSON_TYPE = 'application/json; charset=utf-8';

/** An `OBErrorResponse1` answer. */
export function obError(status: number, code: ObErrorCode, message: string, path?: string): Response {
  const body = {
    Id: randomUUID(),
    Code: `${status} ${REASONS[status] ?? 'Error'}`,
    Message: message.slice(0, 500),
    Errors: [{ ErrorCode: code, Message: message.slice(0, 500), ...(path ? { Path: path } : {}) }],
  };
  return new Response(JSON.stringify(body), { status, headers: { 'content-type': JSON_TYPE } });
}

/** 401 without a body, the reason in the RFC 6750 challenge. */
export function unauthorized(description: string): Response {
  const quoted = description.replace(/["\\]/g, "'");
  return new Response(null, { status: 401, headers: { 'www-authenticate': `Bearer error="invalid_token", error_description="${quoted}"` } });
}

/** The shared pipeline's errors in the bank's shape. */
export function ukobError(kind: ErrorKind, status: number, message: string): Response {
  switch (kind) {
    case 'not_found':
      return new Response(null, { status: 404 });
    case 'token_invalid':
    case 'certificate_binding':
      return unauthorized(message);
    case 'scope':
      return obError(403, OB_ERROR.otherReason, message);
    case 'signature':
      return obError(400, OB_ERROR.signatureInvalid, message);
    case 'format': {
      // The pipeline says which required header or parameter is absent: name it with the code OB gives it.
      if (/header x-jws-signature/i.test(message)) return obError(400, OB_ERROR.signatureMissing, message, 'x-jws-signature');
      const header = /header ([\w-]+)/i.exec(message);
      return header ? obError(400, OB_ERROR.headerMissing, message, header[1]) : obError(400, OB_ERROR.fieldInvalid, message);
    }
    case 'internal':
      // Also the control plane's status faults (503, 429, …): the status as armed.
      return obError(status, OB_ERROR.unexpected, message);
  }
}

export { JSON_TYPE };
