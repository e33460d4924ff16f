/**
 * Just enough DER (X.690) to find a certificate's public key and a private key's algorithm without a crypto
 * library: read one element's tag and extent, list a constructed element's children, encode a length.
 * Everything else is WebCrypto's job.
 */

export interface DerElement {
  readonly tag: number;
  /** Offset of the tag byte. */
  readonly start: number;
  /** Offset of the first content byte. */
  readonly contentStart: number;
  /** Offset just past the content. */
  readonly end: number;
}

export const DER_TAG = { integer: 0x02, bitString: 0x03, octetString: 0x04, null: 0x05, oid: 0x06, sequence: 0x30 } as const;

/** The element starting at `offset`; throws `DerError` when the bytes are not DER there. */
export function readElement(bytes: Uint8Array, offset = 0, limit = bytes.length): DerElement {
  if (offset + 2 > limit) throw new DerError('truncated element');
  const tag = bytes[offset]!;
  if ((tag & 0x1f) === 0x1f) throw new DerError('multi-byte tags are not used here');
  let length = bytes[offset + 1]!;
  let contentStart = offset + 2;
  if (length & 0x80) {
    const count = length & 0x7f;
    if (count === 0 || count > 4 || contentStart + count > limit) throw new DerError('bad length');
    length = 0;
    for (let i = 0; i < count; i++) length = length * 256 + bytes[contentStart + i]!;
    contentStart += count;
  }
  const end = contentStart + length;
  if (end > limit) throw new DerError('element runs past its parent');
  return { tag, start: offset, contentStart, end };
}

/** The elements inside a constructed element (a SEQUENCE, a context tag). */
export function childrenOf(bytes: Uint8Array, parent: DerElement): DerElement[] {
  const children: DerElement[] = [];
  for (let at = parent.contentStart; at < parent.end; ) {
    const child = readElement(bytes, at, parent.end);
    children.push(child);
    at = child.end;
  }
  return children;
}

/** The bytes of an element, header included. */
export function bytesOf(bytes: Uint8Array, element: DerElement): Uint8Array {
  return bytes.subarray(element.start, element.end);
}

/** The content bytes of an element. */
export function contentOf(bytes: Uint8Array, element: DerElement): Uint8Array {
  return bytes.subarray(element.contentStart, element.end);
}

/** A whole element: tag, DER length, content. */
export function encodeElement(tag: number, content: Uint8Array): Uint8Array {
  const length = content.length;
  const header: number[] = [tag];
  if (length < 0x80) header.push(length);
  else {
    const digits: number[] = [];
    for (let rest = length; rest > 0; rest = Math.floor(rest / 256)) digits.unshift(rest % 256);
    header.push(0x80 | digits.length, ...digits);
  }
  const out = new Uint8Array(header.length + length);
  out.set(header, 0);
  out.set(content, header.length);
  return out;
}

export class DerError extends Error {
  constructor(message: string) {
    super(`not DER: ${message}`);
    this.name = 'DerError';
  }
}
