/**
 * Content decoding of a buffered bank response, so that the body the gateway returns and its headers always
 * agree: a `gzip`/`deflate`/`br` body is decoded and `content-encoding` (and the now wrong `content-length`)
 * dropped. The size limit applies to the decoded bytes too, inside zlib (`maxOutputLength`), so a small
 * compressed bomb cannot expand past it in memory. An encoding we cannot decode is passed through with its
 * header: still consistent.
 */
import { promisify } from 'node:util';
import { brotliDecompress, gunzip, inflate, inflateRaw, type ZlibOptions } from 'node:zlib';
import { ResponseTooLargeError, UndecodableResponseError } from '../../../transport/transport-errors.js';

type Decoder = (input: Uint8Array, options: ZlibOptions) => Promise<Buffer>;

const gunzipAsync = promisify(gunzip) as Decoder;
const inflateAsync = promisify(inflate) as Decoder;
const inflateRawAsync = promisify(inflateRaw) as Decoder;
const brotliAsync = promisify(brotliDecompress) as unknown as Decoder;

/** HTTP `deflate` is zlib-wrapped (RFC 9110 §8.4.1.2), but some servers send raw deflate: accept both. */
const inflateEither: Decoder = (input, options) =>
  inflateAsync(input, options).catch((error: { code?: string }) => {
    if (error.code === 'Z_DATA_ERROR') return inflateRawAsync(input, options);
    throw error;
  });

const DECODERS: Record<string, Decoder> = { gzip: gunzipAsync, 'x-gzip': gunzipAsync, deflate: inflateEither, br: brotliAsync };

export interface Decoded {
  readonly body: Uint8Array;
  readonly headers: Record<string, string | string[]>;
}

/** Returns the body decoded and the headers fixed, or both unchanged when there is nothing (or nothing known) to decode. */
export async function decodeBody(body: Uint8Array, headers: Record<string, string | string[]>, limit: number): Promise<Decoded> {
  const header = headers['content-encoding'];
  if (header === undefined) return { body, headers };
  // Codings are listed in the order applied: undo them from the last.
  const codings = (Array.isArray(header) ? header.join(',') : header).split(',').map((c) => c.trim().toLowerCase()).filter((c) => c && c !== 'identity');
  if (codings.some((c) => DECODERS[c] === undefined)) return { body, headers };
  const { 'content-encoding': _encoding, 'content-length': _length, ...rest } = headers;
  if (body.byteLength === 0 || codings.length === 0) return { body, headers: rest };
  let decoded: Uint8Array = body;
  for (const coding of codings.reverse()) {
    try {
      decoded = await DECODERS[coding]!(decoded, { maxOutputLength: limit });
    } catch (error) {
      if ((error as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE') throw new ResponseTooLargeError(limit);
      throw new UndecodableResponseError(coding, error);
    }
  }
  return { body: new Uint8Array(decoded.buffer, decoded.byteOffset, decoded.byteLength), headers: rest };
}
