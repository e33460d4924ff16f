/**
 * A client identity (the QWAC and its key) read from PEM or PKCS#12, validated the way the TLS stack will use
 * it: one `tls.createSecureContext` call, so that anything Node would refuse on the first handshake is refused
 * here, with the reason and the fix. Shared by the config resolution, hot rotation and `npm run cert`.
 */
import { createHash, createPrivateKey, X509Certificate, type KeyObject } from 'node:crypto';
import { createSecureContext, type SecureContext } from 'node:tls';

/** What was read from config: PEM text, or the bytes of a PKCS#12 file. */
export interface ClientIdentityMaterial {
  readonly cert?: string;
  readonly key?: string;
  readonly keyPassphrase?: string;
  /** Intermediates (PEM) appended after the certificate. */
  readonly chain?: string;
  readonly pfx?: Uint8Array;
  readonly passphrase?: string;
}

export interface ClientIdentity {
  /** The options for `tls.createSecureContext` / `tls.connect` (without `ca`). */
  readonly tlsOptions: { cert?: string; key?: string; passphrase?: string; pfx?: Buffer };
  /** The leaf certificate presented to the bank. */
  readonly certificate: X509Certificate;
  /** RFC 8705 `x5t#S256`: base64url SHA-256 of the certificate's DER. What certificate-bound tokens carry. */
  readonly thumbprint: string;
  readonly notBefore: Date;
  readonly notAfter: Date;
}

export type IdentityErrorCode =
  | 'ERR_BANKGATE_PKCS12_LEGACY'
  | 'ERR_BANKGATE_PKCS12_PASSPHRASE'
  | 'ERR_BANKGATE_PKCS12_UNREADABLE'
  | 'ERR_BANKGATE_CERT_UNREADABLE'
  | 'ERR_BANKGATE_KEY_UNREADABLE'
  | 'ERR_BANKGATE_KEY_MISMATCH';

/** Why an identity could not be loaded. `field` is the mtls key to blame (`pfx`, `cert`, `key`, `chain`). */
export class ClientIdentityError extends Error {
  constructor(
    readonly code: IdentityErrorCode,
    readonly field: 'pfx' | 'cert' | 'key' | 'chain',
    message: string,
    cause?: unknown,
  ) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = 'ClientIdentityError';
  }
}

/** `x5t#S256` of a certificate (RFC 8705 §3.1). */
export function thumbprintOf(certificate: X509Certificate): string {
  return createHash('sha256').update(certificate.raw).digest('base64url');
}

/**
 * The exact commands that turn a legacy-encrypted PKCS#12 into PEM files Node reads. `-legacy` loads
 * OpenSSL 3's legacy provider for RC2/3DES; `-nodes` leaves the key unencrypted (protect the file: 0600).
 */
export function pkcs12ConversionHelp(file = 'FILE.pfx'): string {
  const base = file.replace(/\.(pfx|p12)$/i, '');
  return (
    `convert it once with OpenSSL 3: \`openssl pkcs12 -legacy -in ${file} -nodes -out ${base}.pem\` ` +
    `(then use ${base}.pem as both cert and key), or into two files: ` +
    `\`openssl pkcs12 -legacy -in ${file} -clcerts -nokeys -out ${base}-cert.pem\` and ` +
    `\`openssl pkcs12 -legacy -in ${file} -nocerts -nodes -out ${base}-key.pem\`; ` +
    'add `-passin pass:…` to give the passphrase non-interactively, and keep the key file 0600'
  );
}

/**
 * Loads and validates a client identity. Throws `ClientIdentityError` naming the field and the fix; never
 * echoes a PEM, a key or a passphrase. `pfxFile` names the file in the conversion command.
 */
export function loadClientIdentity(material: ClientIdentityMaterial, options: { pfxFile?: string } = {}): ClientIdentity {
  return material.pfx !== undefined ? loadPkcs12(material.pfx, material.passphrase, options.pfxFile) : loadPem(material);
}

function loadPem(material: ClientIdentityMaterial): ClientIdentity {
  if (material.cert === undefined || material.key === undefined) {
    throw new ClientIdentityError('ERR_BANKGATE_CERT_UNREADABLE', material.cert === undefined ? 'cert' : 'key', 'cert and key are both required');
  }
  let certificate: X509Certificate;
  try {
    certificate = new X509Certificate(material.cert);
  } catch (error) {
    throw new ClientIdentityError('ERR_BANKGATE_CERT_UNREADABLE', 'cert', 'is not a PEM X.509 certificate', error);
  }
  let key: KeyObject;
  try {
    key = createPrivateKey({ key: material.key, format: 'pem', passphrase: material.keyPassphrase });
  } catch (error) {
    const code = (error as { code?: string }).code;
    throw new ClientIdentityError('ERR_BANKGATE_KEY_UNREADABLE', 'key', `is not a readable private key${code ? ` (${code})` : ''}; check the file and the passphrase`, error);
  }
  // A mismatched pair otherwise fails every handshake with an opaque OpenSSL error.
  if (!certificate.checkPrivateKey(key)) throw new ClientIdentityError('ERR_BANKGATE_KEY_MISMATCH', 'key', 'does not belong to the certificate in cert');
  if (material.chain !== undefined) {
    try {
      new X509Certificate(material.chain);
    } catch (error) {
      throw new ClientIdentityError('ERR_BANKGATE_CERT_UNREADABLE', 'chain', 'is not PEM X.509 certificates', error);
    }
  }
  const cert = material.chain === undefined ? material.cert : `${material.cert.trimEnd()}\n${material.chain}`;
  const tlsOptions = { cert, key: material.key, ...(material.keyPassphrase !== undefined ? { passphrase: material.keyPassphrase } : {}) };
  try {
    createSecureContext(tlsOptions);
  } catch (error) {
    throw new ClientIdentityError('ERR_BANKGATE_CERT_UNREADABLE', 'cert', `is refused by Node's TLS (${(error as { code?: string }).code ?? 'unknown reason'})`, error);
  }
  return identity(tlsOptions, certificate);
}

function loadPkcs12(pfx: Uint8Array, passphrase: string | undefined, file: string | undefined): ClientIdentity {
  const tlsOptions = { pfx: Buffer.from(pfx.buffer, pfx.byteOffset, pfx.byteLength), ...(passphrase !== undefined ? { passphrase } : {}) };
  let context: SecureContext;
  try {
    context = createSecureContext(tlsOptions);
  } catch (error) {
    throw pkcs12Error(error, file);
  }
  // Node has no public PKCS#12 parser; the SecureContext it just built holds the leaf certificate as DER.
  const native = (context as unknown as { context?: { getCertificate?: () => Buffer | null } }).context;
  const der = typeof native?.getCertificate === 'function' ? native.getCertificate() : null;
  if (!der) {
    throw new ClientIdentityError('ERR_BANKGATE_PKCS12_UNREADABLE', 'pfx', `holds no certificate this Node can inspect; ${pkcs12ConversionHelp(file)}`);
  }
  return identity(tlsOptions, new X509Certificate(der));
}

function pkcs12Error(error: unknown, file: string | undefined): ClientIdentityError {
  const { code, message } = error as { code?: string; message?: string };
  if (code === 'ERR_CRYPTO_UNSUPPORTED_OPERATION' || /unsupported/i.test(message ?? '')) {
    return new ClientIdentityError(
      'ERR_BANKGATE_PKCS12_LEGACY',
      'pfx',
      'is a PKCS#12 file encrypted with a legacy algorithm (such as pbeWithSHA1And40BitRC2-CBC) that OpenSSL 3, ' +
        `and so Node, no longer reads ("Unsupported PKCS12 PFX data"); ${pkcs12ConversionHelp(file)}`,
      error,
    );
  }
  if (/mac verify/i.test(message ?? '')) {
    return new ClientIdentityError('ERR_BANKGATE_PKCS12_PASSPHRASE', 'pfx', 'cannot be opened: wrong or missing passphrase (PKCS#12 MAC check failed)', error);
  }
  return new ClientIdentityError('ERR_BANKGATE_PKCS12_UNREADABLE', 'pfx', `is not a readable PKCS#12 file${code ? ` (${code})` : ''}`, error);
}

function identity(tlsOptions: ClientIdentity['tlsOptions'], certificate: X509Certificate): ClientIdentity {
  return {
    tlsOptions,
    certificate,
    thumbprint: thumbprintOf(certificate),
    notBefore: new Date(certificate.validFrom),
    notAfter: new Date(certificate.validTo),
  };
}
