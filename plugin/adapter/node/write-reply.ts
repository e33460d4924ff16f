import type { ServerResponse } from 'node:http';

/**
 * Writes a finished answer in one go: status, headers (names already lower-case, repeated values as
 * arrays) and the whole body with its length, so Node sends headers and body in a single write. A null body
 * (204, 304, …) gets no `content-length`: those statuses must not carry one.
 */
export function writeReply(res: ServerResponse, status: number, headers: Record<string, string | string[]>, body: Uint8Array | string | null): void {
  if (body !== null) headers['content-length'] = String(typeof body === 'string' ? Buffer.byteLength(body) : body.byteLength);
  res.writeHead(status, headers);
  res.end(body ?? undefined);
}
