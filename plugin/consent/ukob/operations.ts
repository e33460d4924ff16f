/**
 * The UK Open Banking operations the protocol calls itself (intents: create, read, delete), found by their
 * `operationId` in the bank's generated manifests: whichever mounted API declares it, under that API's base URL.
 * Nothing here is an open proxy: only declared operations, with path parameters encoded.
 */
import { BankgateError } from '../../errors/bankgate-error.js';
import { bankErrorToProblem } from '../../surface/bank-error.js';
import { messagePolicyOf, type MessagePolicy } from './message-policy.js';
import type { ConsentContext } from '../protocol.js';

export interface OperationResult {
  readonly status: number;
  /** The parsed JSON body (undefined for none). */
  readonly json: unknown;
  /** `x-fapi-interaction-id` as the bank played it back. */
  readonly interactionId?: string;
}

/**
 * Calls `operationId` with the client-credentials `token`. A bank answer ≥ 400 throws the gateway's usual bank
 * problem (`bank_bad_request`, …, the OB `Errors` kept in `bankMessages`).
 */
export async function callOperation(
  context: ConsentContext,
  operationId: string,
  options: {
    token: string;
    pathParams?: Readonly<Record<string, string>>;
    body?: unknown;
    headers?: Readonly<Record<string, string>>;
    /** The idempotency key's source (the policy derives the key sent): what makes two calls the same call. */
    idempotencyKey?: string;
  },
): Promise<OperationResult> {
  const found = findOperation(context, operationId);
  const path = found.route.path.replace(/\{([^}]+)\}/g, (_match, name: string) => {
    const value = options.pathParams?.[name];
    if (value === undefined) throw new Error(`${operationId}: path parameter ${name} missing`);
    return encodeURIComponent(value);
  });
  const base = found.baseUrl;
  const interactionId = crypto.randomUUID();
  const headers: Record<string, string> = {
    accept: 'application/json',
    authorization: `Bearer ${options.token}`,
    'x-fapi-interaction-id': interactionId,
    ...options.headers,
  };
  let body: Uint8Array | undefined;
  if (options.body !== undefined) {
    body = new TextEncoder().encode(JSON.stringify(options.body));
    headers['content-type'] = 'application/json';
  }
  const request = { method: found.route.method.toUpperCase(), origin: base.origin, path: `${base.pathname.replace(/\/$/, '')}${path}`, headers, ...(body ? { body } : {}) };
  // Signing, the idempotency key and the bank's signature: as for a caller's call (message-policy.ts), the gateway the caller.
  const call = { callerKey: 'bankgate:consent', api: found.api, route: found.route, header: (name: string) => (name === 'x-idempotency-key' ? options.idempotencyKey : undefined) };
  const messages = policyOf(context);
  const response = await context.transport.send(messages ? await messages.prepare(request, call) : request);
  if (response.status >= 400) throw bankErrorToProblem(context.bank.name, operationId, response);
  if (messages) await messages.check(response, call);
  const text = new TextDecoder().decode(response.body);
  let json: unknown;
  if (text.length > 0) {
    try {
      json = JSON.parse(text);
    } catch {
      throw new BankgateError('bank_response_invalid', { status: 502, bank: context.bank.name, detail: `bank ${context.bank.name} answered ${operationId} with a body that is not JSON` });
    }
  }
  const played = response.headers['x-fapi-interaction-id'];
  return { status: response.status, json, ...(typeof played === 'string' ? { interactionId: played } : {}) };
}

const policies = new WeakMap<object, MessagePolicy | null>();

/** The bank's message policy (signing, idempotency, signed answers), one per bank config and transport. */
function policyOf(context: ConsentContext): MessagePolicy | undefined {
  let byTransport = policies.get(context.transport);
  if (byTransport === undefined) {
    byTransport = messagePolicyOf(context.bank, context.transport, context.now) ?? null;
    policies.set(context.transport, byTransport);
  }
  return byTransport ?? undefined;
}

/** Whether one of the bank's mounted APIs declares `operationId`. */
export function mountsOperation(context: ConsentContext, operationId: string): boolean {
  return mountedOperation(context, operationId) !== undefined;
}

/** The path template of `operationId` in the bank's mounted APIs (`/domestic-vrp-consents/{ConsentId}`), if mounted. */
export function mountedPath(context: ConsentContext, operationId: string): string | undefined {
  return mountedOperation(context, operationId)?.route.path;
}

function mountedOperation(context: ConsentContext, operationId: string) {
  for (const api of context.bank.apis.values()) {
    const route = api.manifest.routes.find((r) => r.operationId === operationId);
    if (route) return { route, baseUrl: api.baseUrl, api: api.name };
  }
  return undefined;
}

function findOperation(context: ConsentContext, operationId: string) {
  const found = mountedOperation(context, operationId);
  if (found) return found;
  throw new BankgateError('config_invalid', {
    status: 500,
    bank: context.bank.name,
    detail: `bank ${context.bank.name} mounts no API with the UK Open Banking operation ${operationId}: add the API's manifest under banks.${context.bank.name}.apis`,
  });
}
