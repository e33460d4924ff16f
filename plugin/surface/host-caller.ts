import type { Context } from 'hono';
import { BankgateError } from '../errors/bankgate-error.js';
import type { Caller } from './caller-auth.js';

/** A caller as a host app hands it to bankgate: who it is, and what it may do (permissions.ts). */
export interface HostCaller {
  /** A stable id for the calling service (1–128 characters): its connections belong to it. */
  readonly id: string;
  /** Permissions, as `callers.keys[].allow`: `*`, `seb/*`, `seb/ais/*`, `seb/ais/getAccounts`. */
  readonly allow: readonly string[];
}

/**
 * The hook through which a host app authenticates callers itself (its own session, mTLS identity, API gateway
 * header…) and hands bankgate the caller: `createGateway(config, { hostCaller: (c) => … })`. It runs for every
 * request under the gateway except the bank's callback; returning `undefined` leaves the request to bankgate's own
 * keys and JWTs (which answer 401 when there is nothing of theirs either).
 */
export type HostCallerHook = (c: Context) => HostCaller | undefined | Promise<HostCaller | undefined>;

/** The caller a host handed over, checked: a malformed one is the host's bug, answered as a 500 that names the hook. */
export function hostCallerOf(value: HostCaller): Caller {
  const { id, allow } = value as { id?: unknown; allow?: unknown };
  if (typeof id !== 'string' || id.length === 0 || id.length > 128 || !Array.isArray(allow) || !allow.every((a) => typeof a === 'string')) {
    throw new BankgateError('host_caller_invalid', {
      status: 500,
      detail: 'the hostCaller hook returned something other than { id: string (1–128 characters), allow: string[] }; fix the host app',
    });
  }
  return { id, key: `host:${id}`, via: 'host', allow: [...allow] };
}
