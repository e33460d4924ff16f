/**
 * The token side of fault injection (faults.ts): `target: 'token'` rules consumed at an authorization
 * server's token endpoint, where each fault really happens:
 *   close          the socket is destroyed before anything is done;
 *   status         answers `status` (default 503) without doing the work: the refresh token is untouched;
 *   delay          waits `delayMs`, then does the work, unless the client went away meanwhile (a request
 *                  whose client died is never processed, so a test knows the token was not rotated);
 *   invalid-grant  after `delayMs`, answers 400 invalid_grant without doing the work (nothing rotated or revoked);
 *   drop-response  oidc-provider completes the grant (rotating the refresh token, counted in the stats),
 *                  then the socket is destroyed without an answer: the client cannot know the new token;
 *   trickle        headers at once, then a byte of body every `delayMs` (200), never finished.
 * A rule with `pathPrefix` applies to that path of the server instead of the token endpoint (its JWKS, …).
 * A rule with `grantType` needs the form body before oidc-provider reads it: it is read here and handed
 * over as `req.body`, which oidc-provider accepts for an already-read body. Nothing is read without a rule.
 */
import { once } from 'node:events';
import type Provider from 'oidc-provider';
import type { FaultRegistry } from './faults.js';
import type { BankName } from './stats.js';

const LIMIT = 56 * 1024;

export function consumeTokenFaults(provider: Provider, bank: BankName, faults: FaultRegistry, tokenPath: string): void {
  provider.use(async (ctx, next) => {
    const atTokenEndpoint = ctx.method === 'POST' && ctx.path === tokenPath;
    const applies = (rule: { bank: string; target: string; pathPrefix?: string }) =>
      rule.bank === bank && rule.target === 'token' && (rule.pathPrefix === undefined ? atTokenEndpoint : ctx.path.startsWith(rule.pathPrefix));
    if (!faults.list().some(applies)) return next();
    let grantType: string | undefined;
    if (atTokenEndpoint) {
      const body = await readBody(ctx.req);
      (ctx.req as { body?: Buffer }).body = body;
      grantType = new URLSearchParams(body.toString('utf8')).get('grant_type') ?? undefined;
    }
    const rule = faults.take(bank, 'token', { grantType, path: ctx.path, atTokenEndpoint });
    if (!rule) return next();
    const socket = ctx.req.socket;
    // For the refresh ledger (sg/refresh-ledger.ts): a socket this fault destroys is not a client gone away.
    (ctx.state as { sandboxFault?: string }).sandboxFault = rule.action;
    switch (rule.action) {
      case 'close':
        ctx.respond = false;
        socket.destroy();
        return;
      case 'status':
        ctx.status = rule.status ?? 503;
        ctx.type = 'application/json';
        ctx.body = { error: 'temporarily_unavailable', error_description: `sandbox fault: HTTP ${ctx.status} without processing` };
        return;
      case 'delay': {
        const closed = once(socket, 'close').then(() => undefined);
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([new Promise<void>((resolve) => (timer = setTimeout(resolve, rule.delayMs ?? 1000))), closed]);
        clearTimeout(timer);
        if (socket.destroyed) {
          ctx.respond = false;
          return;
        }
        return next();
      }
      case 'invalid-grant': {
        if (rule.delayMs) await new Promise((resolve) => setTimeout(resolve, rule.delayMs));
        ctx.status = 400;
        ctx.type = 'application/json';
        ctx.body = { error: 'invalid_grant', error_description: 'sandbox fault: refused without looking at the grant' };
        return;
      }
      case 'trickle': {
        ctx.respond = false;
        ctx.res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(LIMIT) });
        const tick = setInterval(() => ctx.res.write(' '), rule.delayMs ?? 200);
        socket.once('close', () => clearInterval(tick));
        return;
      }
      case 'drop-response':
        await next();
        ctx.respond = false;
        socket.destroy();
        return;
      default:
        return next();
    }
  });
}

async function readBody(req: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > LIMIT) throw new Error('request entity too large');
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}
