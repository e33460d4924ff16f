import { createMiddleware } from 'hono/factory';

export interface RequestIdVariables {
  /** The caller's own `X-Request-ID` when it sent a sane one, else a new UUID; echoed on the response. */
  requestId: string;
}

const SANE = /^[A-Za-z0-9._:-]{1,128}$/;

/** The correlation id of an inbound request: the caller's `X-Request-ID` when it is sane, else a new UUID. */
export function requestIdFor(given: string | undefined): string {
  return given !== undefined && SANE.test(given) ? given : crypto.randomUUID();
}

/** Correlation id of the inbound request (not the one sent to the bank: each bank call gets its own UUID). */
export function requestId() {
  return createMiddleware<{ Variables: RequestIdVariables }>(async function bankgateRequestId(c, next) {
    const id = requestIdFor(c.req.header('x-request-id'));
    c.set('requestId', id);
    await next();
    c.res.headers.set('x-request-id', id);
  });
}
