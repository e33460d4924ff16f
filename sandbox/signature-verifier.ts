/**
 * Verifies the draft-cavage HTTP signature the SG-like bank requires on every resource call
 * (draft-cavage-http-signatures-12, as STET profiles it):
 *
 *   Digest: SHA-256=<base64 of SHA-256 of the body bytes>          (an empty body is the digest of nothing)
 *   Signature: keyId="…",algorithm="rsa-sha256",headers="(request-target) digest x-request-id[ date]",signature="…"
 *
 * The signing string is one line per listed header, joined by "\n": `(request-target): <lowercase method> <path+query>`
 * or `<lowercase name>: <value>`. `(request-target)`, `digest` and `x-request-id` must be signed. The signature is
 * RSASSA-PKCS1-v1_5 with SHA-256 under the key of the TPP's QSeal certificate. Self-contained on purpose: the
 * gateway has its own signer, and a shared helper would let one bug hide in both.
 */
import { createHash, verify, X509Certificate, type KeyObject } from 'node:crypto';

export interface SignedRequest {
  /** HTTP method as received. */
  readonly method: string;
  /** Path and query exactly as received (the raw request target). */
  readonly target: string;
  /** Header lookup by name, case-insensitive (a `Headers` object fits). */
  readonly headers: { get(name: string): string | null };
  readonly body: Uint8Array;
}

export interface SigningKey {
  readonly keyId: string;
  /** PEM of the QSeal certificate whose public key verifies the signature. */
  readonly certPem: string;
}

export type SignatureResult = { ok: true } | { ok: false; reason: string };

const REQUIRED_SIGNED = ['(request-target)', 'digest', 'x-request-id'] as const;

/** Parses `key="value",key="value"` (values may contain `,` and `=`). */
export function parseSignatureHeader(header: string): Record<string, string> | undefined {
  const params: Record<string, string> = {};
  const pattern = /\s*([A-Za-z]+)\s*=\s*"([^"]*)"\s*(,|$)/y;
  let match: RegExpExecArray | null;
  while (pattern.lastIndex < header.length && (match = pattern.exec(header))) {
    params[match[1]!] = match[2]!;
  }
  return pattern.lastIndex === header.length || header.trim() === '' ? params : undefined;
}

function digestOf(body: Uint8Array): string {
  return createHash('sha256').update(body).digest('base64');
}

/** The `SHA-256=` value of a Digest header (RFC 3230: comma-separated `alg=value`, algorithm case-insensitive). */
function sha256FromDigest(header: string): string | undefined {
  for (const part of header.split(',')) {
    const index = part.indexOf('=');
    if (index > 0 && part.slice(0, index).trim().toLowerCase() === 'sha-256') return part.slice(index + 1).trim();
  }
  return undefined;
}

export function createSignatureVerifier(key: SigningKey) {
  const publicKey: KeyObject = new X509Certificate(key.certPem).publicKey;
  if (publicKey.asymmetricKeyType !== 'rsa') throw new Error(`the QSeal certificate of ${key.keyId} must carry an RSA key for rsa-sha256`);

  return function verifySignature(request: SignedRequest): SignatureResult {
    const header = request.headers.get('signature');
    if (!header) return { ok: false, reason: 'the Signature header is missing' };
    const params = parseSignatureHeader(header);
    if (!params) return { ok: false, reason: 'the Signature header is malformed (expected key="value" pairs separated by commas)' };
    if (!params.keyId) return { ok: false, reason: 'the Signature header has no keyId' };
    if (params.keyId !== key.keyId) return { ok: false, reason: `unknown signature keyId "${params.keyId}"` };
    if (params.algorithm && params.algorithm.toLowerCase() !== 'rsa-sha256') {
      return { ok: false, reason: `signature algorithm "${params.algorithm}" is not supported (rsa-sha256 only)` };
    }
    if (!params.signature) return { ok: false, reason: 'the Signature header has no signature' };
    const signed = (params.headers ?? 'date').toLowerCase().split(/\s+/).filter(Boolean);
    const unsigned = REQUIRED_SIGNED.filter((name) => !signed.includes(name));
    if (unsigned.length > 0) return { ok: false, reason: `the signature must cover ${unsigned.join(', ')} (headers="${signed.join(' ')}")` };

    const digestHeader = request.headers.get('digest');
    if (!digestHeader) return { ok: false, reason: 'the Digest header is missing' };
    const claimed = sha256FromDigest(digestHeader);
    if (!claimed) return { ok: false, reason: 'the Digest header has no SHA-256 value' };
    if (claimed !== digestOf(request.body)) return { ok: false, reason: 'the Digest header does not match the request body' };

    const lines: string[] = [];
    for (const name of signed) {
      if (name === '(request-target)') {
        lines.push(`(request-target): ${request.method.toLowerCase()} ${request.target}`);
        continue;
      }
      const value = request.headers.get(name);
      if (value === null) return { ok: false, reason: `signed header "${name}" is not in the request` };
      lines.push(`${name}: ${value}`);
    }

    const valid = verify('sha256', Buffer.from(lines.join('\n'), 'utf8'), publicKey, Buffer.from(params.signature, 'base64'));
    return valid ? { ok: true } : { ok: false, reason: 'the signature does not verify with the QSeal certificate of keyId' };
  };
}

export type SignatureVerifier = ReturnType<typeof createSignatureVerifier>;
