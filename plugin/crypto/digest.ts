/** SHA-256 on WebCrypto. Asynchronous everywhere (`crypto.subtle`): keep it off paths that must answer synchronously. */

const encoder = new TextEncoder();

/** SHA-256 of bytes, or of a string's UTF-8. */
export async function sha256(data: Uint8Array | string): Promise<Uint8Array> {
  const bytes = typeof data === 'string' ? encoder.encode(data) : data;
  return new Uint8Array(await crypto.subtle.digest('SHA-256', bytes as Uint8Array<ArrayBuffer>));
}
