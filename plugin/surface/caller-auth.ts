import { createHash, timingSafeEqual } from 'node:crypto';
import { createMiddleware } from 'hono/factory';
import { BankgateError } from '../errors/bankgate-error.js';

/** Who is calling the gateway: an internal service. Connections belong to it. */
export interface Caller {
  readonly id: string;
}

export interface CallerAuthVariables {
  caller: Caller;
}

/**
 * Internal caller authentication with a static key: `Authorization: Bearer <key>`. The inbound
 * Authorization header authenticates the caller only; it is never forwarded to a bank.
 */
export function callerAuth(options: { devKey: string; callerId?: string }) {
  if (options.devKey.length < 16) throw new Error('callerAuth: devKey must be at least 16 characters');
  const expected = createHash('sha256').update(options.devKey).digest();
  const caller: Caller = { id: options.callerId ?? 'dev' };
  return createMiddleware<{ Variables: CallerAuthVariables }>(async function bankgateCallerAuth(c, next) {
    const header = c.req.header('authorization');
    const match = header ? /^Bearer\s+(.+)$/i.exec(header) : null;
    if (!match) {
      throw new BankgateError('unauthorized', { status: 401, detail: 'send the internal credential as "Authorization: Bearer <key>"' });
    }
    const given = createHash('sha256').update(match[1]!.trim()).digest();
    if (!timingSafeEqual(given, expected)) throw new BankgateError('unauthorized', { status: 401, detail: 'the internal credential is not valid' });
    c.set('caller', caller);
    await next();
  });
}
