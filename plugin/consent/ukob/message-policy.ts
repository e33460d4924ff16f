/**
 * What the gateway owns in a UK Open Banking bank call, added after the request is built and before it is sent:
 * - `x-jws-signature`: the detached JWS of the exact body bytes (banks.<bank>.jws), on the operations whose spec
 *   declares the header; a caller's value is never sent;
 * - `x-idempotency-key`: derived by the gateway from who the caller is and what it sent (its own
 *   `x-idempotency-key` when it gave one, else the method, path and body), so that a caller's retry of the same
 *   request reaches the bank under the same key (the bank answers with the first resource: nothing is paid twice),
 *   two callers' keys never meet, and the same key with another body is the bank's refusal to give;
 * - `x-fapi-interaction-id`: the caller's when it sent one (played back by the bank), else a new UUID.
 * And on the answers of the APIs listed in `jws.verify`, the bank's `x-jws-signature` checked; the kind of each intent
 * created remembered (created-intents.ts).
 */
import type { JSONWebKeySet } from 'jose';
import type { ResolvedBank } from '../../config/resolve-config.js';
import { BankgateError } from '../../errors/bankgate-error.js';
import { signDetachedJws, verifyDetachedJws } from '../../oauth/detached-jws.js';
import { rememberCreatedIntent } from './created-intents.js';
import type { RouteManifest } from '../../manifest/types.js';
import type { BankRequest, BankResponse, BankTransport } from '../../transport/types.js';

export interface MessagePolicyCall {
  /** Who is calling: its `Caller.key` (contracts.md §1), the namespace of its idempotency keys. */
  readonly callerKey: string;
  readonly api: string;
  readonly route: RouteManifest;
  /** A header of the caller's request. */
  header(name: string): string | undefined;
}

/**
 * `x-jws-signature` and `x-idempotency-key` are gateway-owned headers for every bank (surface/owned-headers.ts): the
 * caller is never asked for them, a caller's value is never sent, and this policy sets them.
 */
export interface MessagePolicy {
  prepare(request: BankRequest, call: MessagePolicyCall): Promise<BankRequest>;
  /** Checks a 2xx answer (the bank's signature); throws `bank_response_invalid`. */
  check(response: BankResponse, call: MessagePolicyCall): Promise<void>;
}

const IDEMPOTENCY_KEY = 'x-idempotency-key';
const JWS = 'x-jws-signature';
const INTERACTION_ID = 'x-fapi-interaction-id';

function declares(route: RouteManifest, name: string): boolean {
  return route.params.header.some((header) => header.name.toLowerCase() === name);
}

function base64url(bytes: Uint8Array): string {
  let binary = '';
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

/** 40 characters (OB's limit) of SHA-256 over the parts, each length-prefixed so that no two inputs collide. */
async function idempotencyKey(parts: readonly (string | Uint8Array)[]): Promise<string> {
  const encoder = new TextEncoder();
  const chunks: Uint8Array[] = [];
  for (const part of parts) {
    const bytes = typeof part === 'string' ? encoder.encode(part) : part;
    chunks.push(encoder.encode(`${bytes.byteLength}:`), bytes);
  }
  const all = new Uint8Array(chunks.reduce((total, chunk) => total + chunk.byteLength, 0));
  let at = 0;
  for (const chunk of chunks) {
    all.set(chunk, at);
    at += chunk.byteLength;
  }
  return base64url(new Uint8Array(await crypto.subtle.digest('SHA-256', all))).slice(0, 40);
}

/** The bank's policy, or undefined for a bank that neither speaks UK Open Banking, signs messages, nor declares `x-idempotency-key`. */
export function messagePolicyOf(bank: ResolvedBank, transport: BankTransport, now: () => number): MessagePolicy | undefined {
  const ownsIdempotency = [...bank.apis.values()].some((api) => api.manifest.routes.some((route) => declares(route, IDEMPOTENCY_KEY)));
  const jws = bank.jws;
  if (!ownsIdempotency && !jws && bank.consent.protocol !== 'uk-open-banking') return undefined;
  const verify = jws?.verify;
  let keys: Promise<JSONWebKeySet> | undefined;
  const bankKeys = (): Promise<JSONWebKeySet> => {
    keys ??= (async () => {
      const response = await transport.fetch(verify!.jwksUrl, { headers: { accept: 'application/json' } });
      if (!response.ok) throw new BankgateError('bank_response_invalid', { status: 502, bank: bank.name, detail: `bank ${bank.name}'s signing keys (banks.${bank.name}.jws.verify.jwksUrl) answered HTTP ${response.status}` });
      return (await response.json()) as JSONWebKeySet;
    })().catch((error: unknown) => {
      keys = undefined; // fetched again on the next answer
      throw error;
    });
    return keys;
  };

  return {
    async prepare(request, call) {
      const headers = { ...request.headers };
      if (declares(call.route, INTERACTION_ID) && headers[INTERACTION_ID] === undefined) headers[INTERACTION_ID] = crypto.randomUUID();
      if (ownsIdempotency && declares(call.route, IDEMPOTENCY_KEY)) {
        const given = call.header(IDEMPOTENCY_KEY);
        headers[IDEMPOTENCY_KEY] = await idempotencyKey(given !== undefined ? [call.callerKey, 'key', given] : [call.callerKey, 'request', request.method, request.path, request.body ?? new Uint8Array()]);
      }
      if (jws && declares(call.route, JWS) && request.body) headers[JWS] = await signDetachedJws(jws.signer, request.body, now());
      return { ...request, headers };
    },
    async check(response, call) {
      rememberCreatedIntent(bank, call.route, response.status, response.body);
      if (!verify || !verify.apis.includes(call.api) || response.body.byteLength === 0) return;
      const signature = response.headers[JWS];
      await verifyDetachedJws(bank.name, typeof signature === 'string' ? signature : undefined, response.body, { jwks: await bankKeys(), issuer: verify.issuer, trustAnchor: verify.trustAnchor }, now());
    },
  };
}
