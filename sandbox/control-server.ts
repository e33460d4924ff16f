/**
 * The sandbox's plain-HTTP control plane on 127.0.0.1, for tests and benchmarks:
 *   GET  /__sandbox/stats              token requests by grant type, token errors, resource calls by status
 *   POST /__sandbox/reset              zeroes the stats and forgets the recorded requests
 *   GET  /__sandbox/requests?bank=sg   the last 200 resource requests as the bank received them
 *   GET  /__sandbox/file               the sandbox file (the same as sandbox.json)
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { SandboxFile } from './sandbox-file.js';
import type { BankName, SandboxStats } from './stats.js';

function send(res: ServerResponse, status: number, body: unknown): void {
  res.statusCode = status;
  res.setHeader('content-type', 'application/json');
  res.setHeader('cache-control', 'no-store');
  res.end(JSON.stringify(body));
}

export function createControlHandler(stats: SandboxStats, file: () => SandboxFile | undefined) {
  return function handleControlRequest(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const route = `${req.method} ${url.pathname}`;
    switch (route) {
      case 'GET /__sandbox/stats':
        return send(res, 200, stats.snapshot());
      case 'POST /__sandbox/reset':
        stats.reset();
        return send(res, 200, stats.snapshot());
      case 'GET /__sandbox/requests': {
        const bank = url.searchParams.get('bank');
        if (bank !== null && bank !== 'seb' && bank !== 'sg') return send(res, 400, { error: `unknown bank "${bank}" (seb or sg)` });
        return send(res, 200, stats.requests((bank ?? undefined) as BankName | undefined));
      }
      case 'GET /__sandbox/file':
        return send(res, 200, file());
      default:
        return send(res, 404, {
          error: `no ${route}`,
          routes: ['GET /__sandbox/stats', 'POST /__sandbox/reset', 'GET /__sandbox/requests?bank=seb|sg', 'GET /__sandbox/file'],
        });
    }
  };
}
