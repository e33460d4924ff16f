/**
 * One request over an undici dispatcher, answered as a whole buffer: a bare dispatch handler instead of
 * `dispatcher.request()`, which wraps every answer in a Readable stream (and an async resource) that the
 * transport would only read to the end anyway. Same limits as `readBoundedBody`: an announced oversize body
 * is refused at the headers, a body that grows past the limit is aborted there.
 */
import type { Dispatcher } from 'undici';
import { AttemptDeadlineError, ResponseTooLargeError } from '../../../transport/transport-errors.js';

export interface BufferedAnswer {
  readonly statusCode: number;
  /** Lower-case names; repeated headers as arrays. */
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: Uint8Array;
}

/** `deadlineMs`: the whole answer, headers and body, within this (an `AttemptDeadlineError` past it). */
export function dispatchBuffered(dispatcher: Dispatcher, options: Dispatcher.DispatchOptions, limit: number, deadlineMs: number): Promise<BufferedAnswer> {
  return new Promise((resolve, reject) => {
    try {
      dispatcher.dispatch(options, new BufferingHandler(limit, deadlineMs, resolve, reject));
    } catch (error) {
      reject(error);
    }
  });
}

/** A class rather than an object of closures: one allocation per call, methods shared. */
class BufferingHandler implements Dispatcher.DispatchHandler {
  private statusCode = 0;
  private headers: Record<string, string | string[] | undefined> = {};
  private readonly chunks: Buffer[] = [];
  private total = 0;
  private deadline: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly limit: number,
    private readonly deadlineMs: number,
    private readonly resolve: (answer: BufferedAnswer) => void,
    private readonly reject: (error: Error) => void,
  ) {}

  onRequestStart(controller: Dispatcher.DispatchController): void {
    // undici's bodyTimeout is an idle timeout: a bank trickling a byte at a time would hold the call forever.
    this.deadline = setTimeout(() => controller.abort(new AttemptDeadlineError(this.deadlineMs)), this.deadlineMs);
    this.deadline.unref?.();
  }

  onResponseStart(controller: Dispatcher.DispatchController, status: number, headers: Record<string, string | string[] | undefined>): void {
    if (status < 200) return; // 1xx: the real answer follows
    this.statusCode = status;
    this.headers = headers;
    const length = headers['content-length'];
    if (typeof length === 'string' && Number(length) > this.limit) controller.abort(new ResponseTooLargeError(this.limit));
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    this.total += chunk.byteLength;
    if (this.total > this.limit) {
      controller.abort(new ResponseTooLargeError(this.limit));
      return;
    }
    this.chunks.push(chunk);
  }

  onResponseEnd(): void {
    clearTimeout(this.deadline);
    const { chunks } = this;
    const body = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, this.total);
    // A plain Uint8Array, as every transport answers (a Buffer's toString and equality differ).
    this.resolve({ statusCode: this.statusCode, headers: this.headers, body: new Uint8Array(body.buffer, body.byteOffset, body.byteLength) });
  }

  onResponseError(_controller: Dispatcher.DispatchController, error: Error): void {
    clearTimeout(this.deadline);
    this.reject(error);
  }
}
