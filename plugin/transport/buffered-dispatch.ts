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
    let abort: (reason?: Error) => void = () => {};
    let statusCode = 0;
    let headers: Record<string, string | string[] | undefined> = {};
    const chunks: Buffer[] = [];
    let total = 0;
    const handler: Dispatcher.DispatchHandler = {
      onConnect(abortRequest) {
        abort = abortRequest;
      },
      onHeaders(status, rawHeaders) {
        if (status < 200) return true; // 1xx: the real answer follows
        statusCode = status;
        headers = util.parseHeaders(rawHeaders as Buffer[]);
        const declared = typeof headers['content-length'] === 'string' ? Number(headers['content-length']) : NaN;
        if (declared > limit) {
          abort(new ResponseTooLargeError(limit));
          return false;
        }
        return true;
      },
      onData(chunk) {
        total += chunk.byteLength;
        if (total > limit) {
          abort(new ResponseTooLargeError(limit));
          return false;
        }
        chunks.push(chunk);
        return true;
      },
      onComplete() {
        const body = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, total);
        resolve({ statusCode, headers, body: new Uint8Array(body.buffer, body.byteOffset, body.byteLength) });
      },
      onError: reject,
    };
    try {
      dispatcher.dispatch(options, handler);
    } catch (error) {
      reject(error);
    }
  });
}
