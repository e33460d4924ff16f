/**
 * Buffers a body under a size limit: a bank's answer, or (with its own error) a caller's request. Checks
 * `content-length` first, so an announced oversize body is refused without reading it, then counts the bytes
 * actually received (the header can lie or be absent). Works on any async iterable of bytes: undici's body, or a
 * WHATWG stream via `chunksOf`.
 */
import { ResponseTooLargeError } from './transport-errors.js';

export async function readBoundedBody(
  body: AsyncIterable<Uint8Array>,
  limit: number,
  contentLength: string | string[] | null | undefined,
  /** Drops the unread body (frees the connection); leaving a `for await` early does it too. */
  discard: () => void,
  /** The error past the limit: a bank answer's by default. */
  tooLarge: (limit: number) => Error = (over) => new ResponseTooLargeError(over),
): Promise<Uint8Array> {
  const declared = typeof contentLength === 'string' ? Number(contentLength) : NaN;
  if (declared > limit) {
    discard();
    throw tooLarge(limit);
  }
  if (isNodeReadable(body)) return readNodeStream(body, limit, tooLarge);
  const chunks: Uint8Array[] = [];
  let total = 0;
  for await (const chunk of body) {
    total += chunk.byteLength;
    if (total > limit) throw tooLarge(limit);
    chunks.push(chunk);
  }
  return joined(chunks, total);
}

/** What this reader uses of an event-emitting stream (a Node `Readable`, undici's body), typed without Node. */
interface EventStream {
  on(event: 'data', listener: (chunk: Uint8Array) => void): unknown;
  once(event: 'end', listener: () => void): unknown;
  once(event: 'error', listener: (error: Error) => void): unknown;
  destroy(error?: Error): void;
}

/** Node streams (undici's body) are read with events: `for await` costs a promise per chunk and an iterator per body. */
function isNodeReadable(body: AsyncIterable<Uint8Array>): body is AsyncIterable<Uint8Array> & EventStream {
  return typeof (body as { on?: unknown }).on === 'function' && typeof (body as { destroy?: unknown }).destroy === 'function';
}

function readNodeStream(body: EventStream, limit: number, tooLarge: (limit: number) => Error): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    const chunks: Uint8Array[] = [];
    let total = 0;
    body.on('data', (chunk: Uint8Array) => {
      total += chunk.byteLength;
      if (total > limit) {
        body.destroy(); // frees the connection, as leaving a `for await` early does
        reject(tooLarge(limit));
        return;
      }
      chunks.push(chunk);
    });
    body.once('end', () => resolve(joined(chunks, total)));
    body.once('error', reject);
  });
}

/** A WHATWG body as an async iterable; leaving early cancels the stream. */
export async function* chunksOf(stream: ReadableStream<Uint8Array> | null): AsyncGenerator<Uint8Array> {
  if (stream === null) return;
  const reader = stream.getReader();
  let done = false;
  try {
    for (;;) {
      const next = await reader.read();
      if (next.done) {
        done = true;
        return;
      }
      yield next.value;
    }
  } finally {
    if (!done) await reader.cancel().catch(() => {});
  }
}

/** The chunks as one plain Uint8Array (no copy for a single chunk). */
function joined(chunks: readonly Uint8Array[], total: number): Uint8Array {
  if (chunks.length === 1) return asUint8Array(chunks[0]!);
  const out = new Uint8Array(total);
  let at = 0;
  for (const chunk of chunks) {
    out.set(chunk, at);
    at += chunk.byteLength;
  }
  return out;
}

/** A plain Uint8Array view (no copy), so callers see the same type on every runtime. */
function asUint8Array(chunk: Uint8Array): Uint8Array {
  return chunk.constructor === Uint8Array ? chunk : new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength);
}

/** Statuses a Response may not carry a body with. */
const NULL_BODY_STATUS = new Set([101, 103, 204, 205, 304]);

/**
 * A fetch answer with its body read to the end under `limit` (`readBoundedBody`), as a new Response: the OAuth
 * fetches hand their answers over buffered, so that one deadline covers the body too.
 */
export async function bufferedResponse(response: Response, limit: number): Promise<Response> {
  if (response.body === null) return response;
  const init = { status: response.status, statusText: response.statusText, headers: response.headers };
  if (NULL_BODY_STATUS.has(response.status)) {
    await response.body.cancel().catch(() => {});
    return new Response(null, init);
  }
  const body = await readBoundedBody(chunksOf(response.body), limit, response.headers.get('content-length'), () => void response.body?.cancel().catch(() => {}));
  return new Response(body as Uint8Array<ArrayBuffer>, init);
}

/** The caller's signal of a fetch call: `init.signal`, else the Request's own. */
export function callerSignalOf(input: RequestInfo | URL, init: RequestInit | undefined): AbortSignal | undefined {
  return init?.signal ?? (input instanceof Request ? input.signal : undefined) ?? undefined;
}
