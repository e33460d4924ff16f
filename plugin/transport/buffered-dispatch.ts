/**
 * One request over an undici dispatcher, answered as a whole buffer: a bare dispatch handler instead of
 * `dispatcher.request()`, which wraps every answer in a Readable stream (and an async resource) that the
 * transport would only read to the end anyway. Same limits as `readBoundedBody`: an announced oversize body
 * is refused at the headers, a body that grows past the limit is aborted there.
 */
import { util, type Dispatcher } from 'undici';
import { ResponseTooLargeError } from './transport-errors.js';

export interface BufferedAnswer {
  readonly statusCode: number;
  /** Lower-case names; repeated headers as arrays. */
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: Uint8Array;
}

export function dispatchBuffered(dispatcher: Dispatcher, options: Dispatcher.DispatchOptions, limit: number): Promise<BufferedAnswer> {
  return new Promise((resolve, reject) => {
    try {
      dispatcher.dispatch(options, new BufferingHandler(limit, resolve, reject));
    } catch (error) {
      reject(error);
    }
  });
}

const NOT_CONNECTED = (): void => {};

/** A class rather than an object of closures: one allocation per call, methods shared. */
class BufferingHandler implements Dispatcher.DispatchHandler {
  private abort: (reason?: Error) => void = NOT_CONNECTED;
  private statusCode = 0;
  private headers: Record<string, string | string[] | undefined> = {};
  private readonly chunks: Buffer[] = [];
  private total = 0;

  constructor(
    private readonly limit: number,
    private readonly resolve: (answer: BufferedAnswer) => void,
    readonly onError: (error: Error) => void,
  ) {}

  onConnect(abort: (reason?: Error) => void): void {
    this.abort = abort;
  }

  onHeaders(status: number, rawHeaders: Buffer[] | string[] | null): boolean {
    if (status < 200) return true; // 1xx: the real answer follows
    this.statusCode = status;
    this.headers = util.parseHeaders(rawHeaders as Buffer[]);
    const length = this.headers['content-length'];
    if (typeof length === 'string' && Number(length) > this.limit) {
      this.abort(new ResponseTooLargeError(this.limit));
      return false;
    }
    return true;
  }

  onData(chunk: Buffer): boolean {
    this.total += chunk.byteLength;
    if (this.total > this.limit) {
      this.abort(new ResponseTooLargeError(this.limit));
      return false;
    }
    this.chunks.push(chunk);
    return true;
  }

  onComplete(): void {
    const { chunks } = this;
    const body = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, this.total);
    // A plain Uint8Array, as every transport answers (a Buffer's toString and equality differ).
    this.resolve({ statusCode: this.statusCode, headers: this.headers, body: new Uint8Array(body.buffer, body.byteOffset, body.byteLength) });
  }
}
