/** PEM (RFC 7468) blocks to DER, on Web APIs. */
import { fromBase64, toBase64 } from './base64.js';

export interface PemBlock {
  /** `CERTIFICATE`, `PRIVATE KEY`, `RSA PRIVATE KEY`, `ENCRYPTED PRIVATE KEY`, … */
  readonly label: string;
  /** RFC 1421 headers of legacy OpenSSL blocks (`Proc-Type: 4,ENCRYPTED`, `DEK-Info: …`). */
  readonly headers: Readonly<Record<string, string>>;
  readonly der: Uint8Array;
}

const BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----([\s\S]*?)-----END \1-----/g;

/** Every PEM block of a text, in order; blocks whose body is not base64 are skipped. */
export function pemBlocks(text: string): PemBlock[] {
  const blocks: PemBlock[] = [];
  for (const match of text.matchAll(BLOCK)) {
    const headers: Record<string, string> = {};
    const body: string[] = [];
    for (const line of match[2]!.split(/\r?\n/)) {
      const header = /^([A-Za-z-]+):\s*(.*)$/.exec(line.trim());
      if (header) headers[header[1]!] = header[2]!;
      else body.push(line);
    }
    const der = fromBase64(body.join(''));
    if (der !== undefined && der.length > 0) blocks.push({ label: match[1]!, headers, der });
  }
  return blocks;
}

/** The first block with one of `labels`. */
export function firstPemBlock(text: string, labels: readonly string[]): PemBlock | undefined {
  return pemBlocks(text).find((block) => labels.includes(block.label));
}

/** DER as a PEM block, 64 characters a line. */
export function toPem(label: string, der: Uint8Array): string {
  const lines = toBase64(der).match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}
