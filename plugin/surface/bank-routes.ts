import { createMiddleware } from 'hono/factory';
import { BankgateError } from '../errors/bankgate-error.js';
import type { TracingVariables } from '../observability/tracing.js';
import { createBankCalls, type BankCallOptions, type BankCalls, type BankReply } from './bank-call.js';
import type { CallerAuthVariables } from './caller-auth.js';
import type { MountPrefixVariables } from './mount-prefix.js';
import { requestTarget } from './mount-prefix.js';
import type { RequestIdVariables } from './request-id.js';
import { readBoundedRequestBody } from './request-body.js';

export type BankRoutesOptions = BankCallOptions;

type Env = { Variables: CallerAuthVariables & RequestIdVariables & TracingVariables & MountPrefixVariables };

/**
 * The bank-call middleware: matches `/{bank}/{api}{path}` against the declared operations, checks the
 * caller may use it and that the request is what the spec says, attaches the right token (the PSU's,
 * refreshed when needed, or the TPP's client-credentials one), and sends the call over the bank's
 * transport. A bank error becomes a problem with a stable code. Anything that is not a declared operation
 * falls through to `next()` (404). The pipeline itself is bank-call.ts; this adapts it to Hono.
 */
export function bankRoutes(options: BankRoutesOptions | { calls: BankCalls }) {
  const calls = 'calls' in options ? options.calls : createBankCalls(options);
  return createMiddleware<Env>(async function bankgateRoutes(c, next) {
    // Under a mount prefix (`/banks`), the operation is what follows it; without the middleware that sets it, the root.
    const prefix = c.get('mountPrefix') ?? '';
    const rest = requestTarget(c).slice(prefix.length);
    const target = rest.startsWith('/') ? rest : `/${rest}`;
    const found = calls.match(c.req.method, target);
    if (!found) return next();
    if ('allowed' in found) {
      throw new BankgateError('method_not_allowed', { status: 405, detail: `${c.req.method} is not declared for this path; allowed: ${found.allowed.join(', ')}`, extra: { allowed: found.allowed } });
    }
    const reply = await calls.call(found, { requestId: c.get('requestId'), method: c.req.method, target, mountPrefix: prefix, header: (name) => c.req.header(name), body: (maxBytes) => readBoundedRequestBody(c.req.raw.body, c.req.header('content-length'), maxBytes) }, c.get('caller'), c.get('span'));
    return toResponse(reply);
  });
}

function toResponse(reply: BankReply): Response {
  const headers = new Headers();
  for (const [name, value] of Object.entries(reply.headers)) {
    if (Array.isArray(value)) for (const v of value) headers.append(name, v);
    else headers.set(name, value);
  }
  return new Response(reply.body as Uint8Array<ArrayBuffer> | null, { status: reply.status, headers });
}

