import type { IncomingMessage } from 'node:http';
import type { InboundCall } from '../../surface/bank-call.js';

/**
 * A Node request as the bank-call pipeline reads it: headers straight from `IncomingMessage` (Node already
 * lower-cased the names and joined repeated values), the body as one Buffer when an operation declares one.
 */
export function inboundCall(req: IncomingMessage, requestId: string, target: string = req.url!, mountPrefix = ''): InboundCall {
  return new NodeInboundCall(req, requestId, target, mountPrefix);
}

// A class: its methods are shared, where an object literal would make two closures per request.
class NodeInboundCall implements InboundCall {
  readonly method: string;

  constructor(
    private readonly req: IncomingMessage,
    readonly requestId: string,
    readonly target: string,
    readonly mountPrefix: string,
  ) {
    this.method = req.method!;
  }

  header(name: string): string | undefined {
    const value = this.req.headers[name.toLowerCase()];
    return Array.isArray(value) ? value.join(', ') : value;
  }

  body(): Promise<Uint8Array> {
    return readBody(this.req);
  }
}

function readBody(req: IncomingMessage): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.once('end', () => resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks)));
    req.once('error', reject);
  });
}
