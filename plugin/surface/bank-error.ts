import { BankgateError, type BankgateErrorCode } from '../errors/bankgate-error.js';
import { redact } from '../log.js';
import type { BankResponse } from '../transport/types.js';

/** One message of a bank's error body, whatever its dialect. */
export interface BankMessage {
  readonly code?: string;
  readonly text?: string;
  readonly path?: string;
}

const SECRET_KEY = /token|secret|password|passwd|authorization|signature|assertion|verifier|private|credential|cookie|^code$/i;
const MAX_TEXT = 2048;

/**
 * Maps a bank's error response (status ≥ 400) to a problem with a stable code. The bank's messages are
 * read from its dialect — Berlin Group `tppMessages`, UK Open Banking `Errors`, STET `{ error, message }`, OAuth `{ error,
 * error_description }`, RFC 9457 — into `bankMessages`; its body is kept under `bankError`, with any member
 * that looks secret blanked.
 */
export function bankErrorToProblem(bank: string, operationId: string, response: BankResponse): BankgateError {
  const body = parseBody(response);
  const messages = bankMessages(body);
  const { code, status } = codeFor(response.status, messages);
  const summary = messages.map((m) => [m.code, m.text].filter(Boolean).join(': ')).filter(Boolean).join('; ');
  return new BankgateError(code, {
    status,
    bank,
    detail: `bank ${bank} answered HTTP ${response.status} to ${operationId}${summary ? `: ${summary.slice(0, 500)}` : ''}`,
    extra: { operationId, bankStatus: response.status, bankMessages: messages, bankError: sanitize(body) },
  });
}

/** Berlin Group 401 codes about what the caller sent for the PSU (`PSU-ID`, `PSU-Corporate-ID`), not the gateway's credentials. */
const PSU_IDENTITY_REFUSED = new Set(['PSU_CREDENTIALS_INVALID', 'CORPORATE_ID_INVALID']);

function codeFor(status: number, messages: readonly BankMessage[]): { code: BankgateErrorCode; status: number } {
  switch (status) {
    case 400:
    case 422:
      return { code: 'bank_bad_request', status };
    case 401:
      // The PSU identity the caller sent is not one the bank knows: the caller's to fix (400), not a gateway fault.
      if (messages.some((m) => m.code !== undefined && PSU_IDENTITY_REFUSED.has(m.code))) return { code: 'bank_bad_request', status: 400 };
      // Otherwise the caller's own credential was fine: a 401 from the bank is about the gateway's token.
      return { code: 'bank_unauthorized', status: 502 };
    case 403:
      return { code: 'bank_forbidden', status: 403 };
    case 404:
      return { code: 'bank_not_found', status: 404 };
    case 409:
      return { code: 'bank_conflict', status: 409 };
    case 429:
      return { code: 'bank_rate_limited', status: 429 };
    default:
      return status >= 500 ? { code: 'bank_server_error', status: 502 } : { code: 'bank_client_error', status };
  }
}

function parseBody(response: BankResponse): unknown {
  if (response.body.byteLength === 0) return null;
  const text = new TextDecoder().decode(response.body.byteLength > 64 * 1024 ? response.body.subarray(0, 64 * 1024) : response.body);
  const type = String(response.headers['content-type'] ?? '');
  if (/json/i.test(type) || /^\s*[{[]/.test(text)) {
    try {
      return JSON.parse(text);
    } catch {
      // not JSON after all: keep the text
    }
  }
  return text.slice(0, MAX_TEXT);
}

export function bankMessages(body: unknown): BankMessage[] {
  if (typeof body !== 'object' || body === null) return typeof body === 'string' && body ? [{ text: redact(body.slice(0, 300)) }] : [];
  const b = body as Record<string, unknown>;
  if (Array.isArray(b.tppMessages)) {
    return b.tppMessages.filter((m): m is Record<string, unknown> => typeof m === 'object' && m !== null).map((m) => pick({ code: m.code, text: m.text, path: m.path }));
  }
  // UK Open Banking OBErrorResponse1: { Code, Message, Errors: [{ ErrorCode, Message, Path }] }.
  if (Array.isArray(b.Errors)) {
    return b.Errors.filter((m): m is Record<string, unknown> => typeof m === 'object' && m !== null).map((m) => pick({ code: m.ErrorCode, text: m.Message, path: m.Path }));
  }
  if (typeof b.error === 'string' && ('error_description' in b || !('message' in b))) return [pick({ code: b.error, text: b.error_description })];
  if (typeof b.message === 'string' || typeof b.error === 'string') return [pick({ code: b.error, text: b.message })];
  if (typeof b.title === 'string' || typeof b.detail === 'string') return [pick({ code: b.code ?? b.type, text: b.detail ?? b.title })];
  return [];
}

function pick(m: Record<string, unknown>): BankMessage {
  const out: { code?: string; text?: string; path?: string } = {};
  if (typeof m.code === 'string') out.code = m.code.slice(0, 100);
  if (typeof m.text === 'string') out.text = redact(m.text.slice(0, 500));
  if (typeof m.path === 'string') out.path = m.path.slice(0, 200);
  return out;
}

/** A copy of the bank's body with members that look secret blanked and bearer tokens or PEMs in strings redacted. */
export function sanitize(value: unknown, depth = 0): unknown {
  if (depth > 8) return '[truncated]';
  if (typeof value === 'string') return redact(value.slice(0, MAX_TEXT));
  if (Array.isArray(value)) return value.slice(0, 50).map((v) => sanitize(v, depth + 1));
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(Object.entries(value).slice(0, 100).map(([k, v]) => [k, SECRET_KEY.test(k) ? '[redacted]' : sanitize(v, depth + 1)]));
  }
  return value;
}
