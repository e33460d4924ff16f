/**
 * Buffers a response body under a size limit. Checks `content-length` first, so an announced oversize body
 * is refused without reading it, then counts the bytes actually received (the header can lie or be absent).
 * Works on any async iterable of bytes: undici's body, or a WHATWG stream via `chunksOf`.
 */
import { ResponseTooLargeError } from './transport-errors.js';

export async function readBoundedBody(
  body: AsyncIterable<Uint8Array>,
  limit: number,
  contentLength: string | string[] | null | undefined,
  /** Drops the unread body (frees the connection); leaving a `for await` early does it too. */
  discard: () => void,
): Promise<Uint8Array> {
  const declared = typeof contentLength === 'string' ? Number(contentLength) : NaN;
  if (declared > limit) {
    discard();
    throw new ResponseTooLargeError(limit);
  }
  if (isNodeReadable(body)) return readNodeStream(body, limit);
  const chunks: Uint8Array[] = [];
  let total = 0;
  for await (const chunk of body) {
    total += chunk.byteLength;
    if (total > limit) throw new ResponseTooLargeError(limit);
    chunks.push(chunk);
  }
  if (chunks.length === 1) return asUint8Array(chunks[0]!);
  return asUint8Array(Buffer.concat(chunks, total));
}

/** Node streams (undici's body) are read with events: `for await` costs a promise per chunk and an iterator per body. */
function isNodeReadable(body: AsyncIterable<Uint8Array>): body is AsyncIterable<Uint8Array> & NodeJS.ReadableStream & { destroy(error?: Error): void } {
  return typeof (body as { on?: unknown }).on === 'function' && typeof (body as { destroy?: unknown }).destroy === 'function';
}

function readNodeStream(body: NodeJS.ReadableStream & { destroy(error?: Error): void }, limit: number): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    const chunks: Uint8Array[] = [];
    let total = 0;
    body.on('data', (chunk: Uint8Array) => {
      total += chunk.byteLength;
      if (total > limit) {
        body.destroy(); // frees the connection, as leaving a `for await` early does
        reject(new ResponseTooLargeError(limit));
        return;
      }
      chunks.push(chunk);
    });
    body.once('end', () => resolve(asUint8Array(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, total))));
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

/** A plain Uint8Array view (no copy), so callers see the same type on every runtime. */
function asUint8Array(chunk: Uint8Array): Uint8Array {
  return chunk.constructor === Uint8Array ? chunk : new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength);
}
