/**
 * What an operator needs to know about a certificate file, read exactly as the transport reads it (PEM, or
 * PKCS#12 through `loadClientIdentity`, with the same error and conversion command): subject, issuer,
 * validity, key type and the RFC 8705 `x5t#S256` that certificate-bound tokens carry. For `npm run cert`.
 */
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { loadClientIdentity, thumbprintOf } from './client-identity.js';

export interface CertificateInfo {
  readonly format: 'PEM' | 'PKCS#12';
  readonly subject: string;
  readonly issuer: string;
  readonly notBefore: Date;
  readonly notAfter: Date;
  readonly status: 'valid' | 'expired' | 'not yet valid';
  /** `RSA 2048`, `EC P-256`, `Ed25519`. */
  readonly keyType: string;
  /** base64url SHA-256 of the DER: the `x5t#S256` of RFC 8705. */
  readonly thumbprint: string;
  /** PEM only: whether the file also holds the certificate's private key, and whether it matches. */
  readonly privateKey?: 'matches' | 'does not match';
  /** Certificates in the file after the first (a chain). */
  readonly chainLength: number;
}

const PEM_CERT = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;
const PEM_KEY = /-----BEGIN (?:RSA |EC |ENCRYPTED )?PRIVATE KEY-----[\s\S]+?-----END (?:RSA |EC |ENCRYPTED )?PRIVATE KEY-----/;

/** One DN per line from Node → `CN=…, O=…, C=…` (most specific first, as operators read them). */
function dn(text: string): string {
  return text.split('\n').filter(Boolean).reverse().join(', ');
}

function keyTypeOf(certificate: X509Certificate): string {
  const key = certificate.publicKey;
  const details = key.asymmetricKeyDetails ?? {};
  switch (key.asymmetricKeyType) {
    case 'rsa':
    case 'rsa-pss':
      return `${key.asymmetricKeyType.toUpperCase()} ${details.modulusLength ?? '?'}`;
    case 'ec':
      return `EC ${{ prime256v1: 'P-256', secp384r1: 'P-384', secp521r1: 'P-521' }[details.namedCurve ?? ''] ?? details.namedCurve ?? '?'}`;
    default:
      return key.asymmetricKeyType === 'ed25519' ? 'Ed25519' : (key.asymmetricKeyType ?? 'unknown');
  }
}

/**
 * Inspects a PEM or PKCS#12 file's bytes. Throws `ClientIdentityError` for a PKCS#12 Node cannot read
 * (legacy encryption: the message holds the `openssl pkcs12 -legacy` command for `file`), or a wrong
 * passphrase; an Error for bytes that are neither format.
 */
export function inspectCertificate(bytes: Uint8Array, options: { passphrase?: string; file?: string; now?: Date } = {}): CertificateInfo {
  const now = options.now ?? new Date();
  const text = Buffer.from(bytes).toString('latin1');
  let certificate: X509Certificate;
  let format: CertificateInfo['format'];
  let chainLength = 0;
  let privateKey: CertificateInfo['privateKey'];
  if (text.includes('-----BEGIN ')) {
    format = 'PEM';
    const certs = text.match(PEM_CERT);
    if (!certs) throw new Error('holds no PEM certificate (-----BEGIN CERTIFICATE-----)');
    certificate = new X509Certificate(certs[0]);
    chainLength = certs.length - 1;
    const keyPem = PEM_KEY.exec(text)?.[0];
    if (keyPem) {
      try {
        privateKey = certificate.checkPrivateKey(createPrivateKey({ key: keyPem, passphrase: options.passphrase })) ? 'matches' : 'does not match';
      } catch {
        // An encrypted key without its passphrase: the certificate is still worth showing.
      }
    }
  } else {
    format = 'PKCS#12';
    certificate = loadClientIdentity({ pfx: bytes, passphrase: options.passphrase }, { pfxFile: options.file }).certificate;
  }
  const notBefore = new Date(certificate.validFrom);
  const notAfter = new Date(certificate.validTo);
  const status = notAfter.getTime() <= now.getTime() ? 'expired' : notBefore.getTime() > now.getTime() ? 'not yet valid' : 'valid';
  return {
    format,
    subject: dn(certificate.subject),
    issuer: dn(certificate.issuer),
    notBefore,
    notAfter,
    status,
    keyType: keyTypeOf(certificate),
    thumbprint: thumbprintOf(certificate),
    ...(privateKey ? { privateKey } : {}),
    chainLength,
  };
}

/** The report `npm run cert -- inspect` prints. */
export function formatCertificateInfo(file: string, info: CertificateInfo, now = new Date()): string {
  const days = Math.round((info.notAfter.getTime() - now.getTime()) / 86_400_000);
  const until =
    info.status === 'expired' ? `${info.notAfter.toISOString()}  (expired ${-days} days ago)` : `${info.notAfter.toISOString()}  (expires in ${days} days)`;
  const rows: [string, string][] = [
    ['file', file],
    ['format', info.format],
    ['subject', info.subject],
    ['issuer', info.issuer],
    ['valid from', info.notBefore.toISOString()],
    ['valid until', until],
    ['status', info.status],
    ['key type', info.keyType],
    ['x5t#S256', info.thumbprint],
  ];
  if (info.chainLength > 0) rows.push(['chain', `${info.chainLength} more certificate(s) after the first`]);
  if (info.privateKey) rows.push(['private key', info.privateKey]);
  return rows.map(([k, v]) => `${(k + ':').padEnd(13)}${v}`).join('\n');
}
