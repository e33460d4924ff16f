/**
 * The sandbox's plain-HTTP control plane on 127.0.0.1, for tests and benchmarks:
 *   GET  /__sandbox/stats              token requests by grant type, token errors, resource calls by status
 *   POST /__sandbox/reset              zeroes the stats and forgets the recorded requests
 *   GET  /__sandbox/requests?bank=sg   the last 200 resource requests as the bank received them
 *   GET  /__sandbox/file               the sandbox file (the same as sandbox.json)
 *   POST|GET|DELETE /__sandbox/faults  fault injection (see faults.ts)
 * plus the routes of each bank's own control extension (`/__sandbox/bg/…`: the PSU's app, revocation, the clock).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FaultRegistry } from './faults.js';
import type { SandboxFile } from './sandbox-file.js';
import { BANK_NAMES, type BankName, type SandboxStats } from './stats.js';

/**
 * A bank's own control routes under `prefix` (`/__sandbox/bg`): the PSU acting at the bank, the bank's clock.
 * `handle` answers every request under the prefix, 404 included.
 */
export interface ControlExtension {
  readonly prefix: string;
  readonly routes: readonly string[];
  handle(req: IncomingMessage, res: ServerResponse, url: URL): void;
}

function send(res: ServerResponse, status: number, body: unknown): void {
  res.statusCode = status;
  res.setHeader('content-type', 'application/json');
  res.setHeader('cache-control', 'no-store');
  res.end(JSON.stringify(body));
}

export function createControlHandler(
  stats: SandboxStats,
  file: () => SandboxFile | undefined,
  faults: FaultRegistry,
  extensions: readonly ControlExtension[] = [],
) {
  return function handleControlRequest(req: IncomingMessage, res: ServerResponse): void {
    if (req.method === 'POST' && req.url === '/__sandbox/faults') {
      let text = '';
      req.setEncoding('utf8');
      req.on('data', (chunk: string) => (text += chunk));
      req.on('end', () => {
        try {
          faults.add(JSON.parse(text));
          send(res, 200, faults.list());
        } catch (error) {
          send(res, 400, { error: (error as Error).message });
        }
      });
      return;
    }
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const extension = extensions.find((candidate) => url.pathname === candidate.prefix || url.pathname.startsWith(`${candidate.prefix}/`));
    if (extension) return extension.handle(req, res, url);
    const route = `${req.method} ${url.pathname}`;
    switch (route) {
      case 'GET /__sandbox/stats':
        return send(res, 200, stats.snapshot());
      case 'POST /__sandbox/reset':
        stats.reset();
        return send(res, 200, stats.snapshot());
      case 'GET /__sandbox/requests': {
        const bank = url.searchParams.get('bank');
        if (bank !== null && !BANK_NAMES.includes(bank as BankName)) return send(res, 400, { error: `unknown bank "${bank}" (${BANK_NAMES.join(', ')})` });
        return send(res, 200, stats.requests((bank ?? undefined) as BankName | undefined));
      }
      case 'GET /__sandbox/file':
        return send(res, 200, file());
      case 'GET /__sandbox/faults':
        return send(res, 200, faults.list());
      case 'DELETE /__sandbox/faults':
        faults.clear();
        return send(res, 200, []);
      default:
        return send(res, 404, {
          error: `no ${route}`,
          routes: [
            'GET /__sandbox/stats',
            'POST /__sandbox/reset',
            `GET /__sandbox/requests?bank=${BANK_NAMES.join('|')}`,
            'GET /__sandbox/file',
            'POST|GET|DELETE /__sandbox/faults',
            ...extensions.flatMap((extension) => extension.routes),
          ],
        });
    }
  };
}
