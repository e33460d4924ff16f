import type { IncomingMessage } from 'node:http';
import type { InboundCall } from '../../surface/bank-call.js';
import { checkDeclaredLength, requestBodyTooLarge } from '../../surface/request-body.js';

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

  body(maxBytes: number): Promise<Uint8Array> {
    return readBody(this.req, maxBytes);
  }
}

/**
 * The body as one Buffer, never more than `maxBytes` held: `Content-Length` is checked before reading, the
 * running total while reading. Past the limit the rest is not read: the 413 goes out with `Connection: close`
 * (see node-handler.ts), so the socket is not kept for a body nobody reads.
 */
function readBody(req: IncomingMessage, maxBytes: number): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    try {
      checkDeclaredLength(req.headers['content-length'], maxBytes);
    } catch (error) {
      reject(error);
      return;
    }
    const chunks: Buffer[] = [];
    let total = 0;
    const onData = (chunk: Buffer) => {
      total += chunk.length;
      if (total > maxBytes) {
        req.off('data', onData);
        req.pause();
        reject(requestBodyTooLarge(maxBytes));
        return;
      }
      chunks.push(chunk);
    };
    req.on('data', onData);
    req.once('end', () => resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks)));
    req.once('error', reject);
  });
}
