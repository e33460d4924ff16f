/**
 * Options of the Node transport, and their one-time validation. Like a Kong schema: every field is checked
 * (and every PEM parsed) when the factory runs, so `send()` reads resolved values without fallbacks and a bad
 * certificate is a start-up error naming its config path, not a 502 on the first call.
 */
import { createPrivateKey, X509Certificate, type KeyObject } from 'node:crypto';
import { BankgateError } from '../errors/bankgate-error.js';
import { ClientIdentityError, loadClientIdentity, type ClientIdentity } from './client-identity.js';

export interface TlsOptions {
  /** PEM of the CA(s) that sign the bank's server certificate. Pins them; absent: the system roots are used. */
  readonly ca?: string | readonly string[];
  /** PEM of the client certificate (the QWAC), with its chain if the bank needs the intermediates. */
  readonly cert?: string;
  /** PEM of the client certificate's private key. */
  readonly key?: string;
  /** Passphrase of an encrypted `key`, or of `pfx`. */
  readonly passphrase?: string;
  /** PEM intermediates sent after `cert`. */
  readonly chain?: string;
  /** A PKCS#12 holding certificate and key, instead of `cert` + `key`. */
  readonly pfx?: Uint8Array;
  /** An identity already loaded with `loadClientIdentity` (what the config resolution produces). */
  readonly identity?: ClientIdentity;
  /** TLS SNI and the name the server certificate is checked against, when it differs from the origin's host. */
  readonly servername?: string;
}

export interface TimeoutOptions {
  /** TCP + TLS handshake. Default 10 000 ms. */
  readonly connectMs?: number;
  /** From the request sent to the response headers. Default 30 000 ms. */
  readonly headersMs?: number;
  /** Longest silence between two chunks of the response body. Default 30 000 ms. */
  readonly bodyMs?: number;
}

export interface SigningOptions {
  /** The `keyId` the bank knows the signing key by (often the URL or serial of the QSeal certificate). */
  readonly keyId: string;
  /** PEM of the RSA private key (the QSeal key): signatures are `rsa-sha256`. */
  readonly key: string;
  readonly passphrase?: string;
  /** PEM of the QSeal certificate: sent as `TPP-Signature-Certificate` (base64 DER) when given. */
  readonly certificate?: string;
  /**
   * Headers to sign, in order. Default `['(request-target)', 'digest', 'x-request-id', 'date']`; a `date`
   * to sign that the request lacks is added (RFC 9110 IMF-fixdate, now).
   */
  readonly headers?: readonly string[];
}

export interface NodeTransportOptions {
  /** The bank's name in config (`sg`): used in error details and config paths, never sent anywhere. */
  readonly bank: string;
  readonly tls: TlsOptions;
  readonly timeouts?: TimeoutOptions;
  /** Largest response body accepted. Default 10 MiB. */
  readonly maxResponseBytes?: number;
  /** How long an idle pooled connection is kept. Default 10 000 ms (a bank's `Keep-Alive` hint can lower it). */
  readonly keepAliveMs?: number;
  /** Sign requests with draft-cavage HTTP Signatures (`Digest` + `Signature`), for banks that require it. */
  readonly signing?: SigningOptions;
  /** Send `accept-encoding: gzip, deflate, br`. Default false; compressed answers are decoded either way. */
  readonly acceptCompressed?: boolean;
}

export interface ResolvedSigning {
  readonly keyId: string;
  readonly key: KeyObject;
  /** Names in signing order. */
  readonly headers: readonly string[];
  /** base64 DER of the QSeal certificate, the `TPP-Signature-Certificate` value. */
  readonly certificateHeader?: string;
}

export interface ResolvedNodeTransportOptions {
  readonly bank: string;
  readonly tls: {
    readonly ca?: string[];
    readonly identity: ClientIdentity;
    readonly servername?: string;
  };
  readonly timeouts: { readonly connectMs: number; readonly headersMs: number; readonly bodyMs: number };
  readonly maxResponseBytes: number;
  readonly keepAliveMs: number;
  readonly signing?: ResolvedSigning;
  readonly acceptCompressed: boolean;
}

export const DEFAULT_SIGNED_HEADERS = ['(request-target)', 'digest', 'x-request-id', 'date'] as const;
export const DEFAULT_TIMEOUTS = { connectMs: 10_000, headersMs: 30_000, bodyMs: 30_000 } as const;
export const DEFAULT_MAX_RESPONSE_BYTES = 10 * 1024 * 1024;
export const DEFAULT_KEEP_ALIVE_MS = 10_000;

function invalid(path: string, problem: string, cause?: unknown): BankgateError {
  return new BankgateError('config_invalid', { status: 500, detail: `${path}: ${problem}`, cause });
}

function positiveInteger(value: unknown, path: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value <= 0) {
    throw invalid(path, `must be a positive integer, got ${JSON.stringify(value)}`);
  }
  return value;
}

function pem(value: unknown, path: string, what: string): string {
  if (typeof value !== 'string' || !value.includes('-----BEGIN ')) {
    throw invalid(path, `must be the PEM text of ${what} (read the file first), got ${typeof value}`);
  }
  return value;
}

function certificate(value: unknown, path: string): X509Certificate {
  const text = pem(value, path, 'a certificate');
  try {
    return new X509Certificate(text);
  } catch (error) {
    throw invalid(path, 'is not a valid PEM certificate', error);
  }
}

function privateKey(value: unknown, passphrase: string | undefined, path: string): KeyObject {
  const text = pem(value, path, 'a private key');
  try {
    return createPrivateKey({ key: text, format: 'pem', passphrase });
  } catch (error) {
    // Never echo the PEM: it is the secret. The code says whether it is a wrong passphrase or bad PEM.
    const code = (error as { code?: string }).code;
    throw invalid(path, `is not a readable private key${code ? ` (${code})` : ''}; check the file and the passphrase`, error);
  }
}

function signingHeaders(value: unknown, path: string): string[] | undefined {
  if (value === undefined) return undefined;
  if (!Array.isArray(value) || value.length === 0 || value.some((h) => typeof h !== 'string' || h.trim() === '')) {
    throw invalid(path, 'must be a non-empty list of header names, such as ["(request-target)", "digest", "x-request-id"]');
  }
  const names = value.map((h: string) => h.trim().toLowerCase());
  if (names.includes('signature')) throw invalid(path, 'cannot sign the signature header itself');
  return names;
}

/**
 * Validates and resolves the options: defaults applied, every PEM parsed, the client key checked against the
 * client certificate. Throws `BankgateError('config_invalid')` whose detail starts with the config path
 * (`banks.sg.mtls.key: …`).
 */
export function resolveNodeTransportOptions(options: NodeTransportOptions): ResolvedNodeTransportOptions {
  if (options === null || typeof options !== 'object') throw invalid('transport', 'options are required');
  const { bank } = options;
  if (typeof bank !== 'string' || bank.trim() === '') throw invalid('transport.bank', 'must be the bank name');
  const at = `banks.${bank}`;
  const tls = options.tls;
  if (tls === null || typeof tls !== 'object') throw invalid(`${at}.mtls`, 'is required: the client certificate and key');

  const ca = tls.ca === undefined ? undefined : typeof tls.ca === 'string' ? [tls.ca] : [...tls.ca];
  ca?.forEach((text, i) => certificate(text, ca.length === 1 ? `${at}.mtls.ca` : `${at}.mtls.ca[${i}]`));
  const identity = resolveIdentity(tls, `${at}.mtls`);
  if (tls.servername !== undefined && (typeof tls.servername !== 'string' || tls.servername === '')) {
    throw invalid(`${at}.mtls.servername`, 'must be a host name');
  }

  const timeouts = options.timeouts ?? {};
  const resolved: ResolvedNodeTransportOptions = {
    bank,
    tls: { ca, identity, servername: tls.servername },
    timeouts: {
      connectMs: positiveInteger(timeouts.connectMs, `${at}.timeouts.connectMs`, DEFAULT_TIMEOUTS.connectMs),
      headersMs: positiveInteger(timeouts.headersMs, `${at}.timeouts.headersMs`, DEFAULT_TIMEOUTS.headersMs),
      bodyMs: positiveInteger(timeouts.bodyMs, `${at}.timeouts.bodyMs`, DEFAULT_TIMEOUTS.bodyMs),
    },
    maxResponseBytes: positiveInteger(options.maxResponseBytes, `${at}.maxResponseBytes`, DEFAULT_MAX_RESPONSE_BYTES),
    keepAliveMs: positiveInteger(options.keepAliveMs, `${at}.keepAliveMs`, DEFAULT_KEEP_ALIVE_MS),
    signing: options.signing === undefined ? undefined : resolveSigning(options.signing, `${at}.signing`),
    acceptCompressed: options.acceptCompressed === true,
  };
  return resolved;
}

/** Validates signing options alone: shared with the fetch transport. */
export function resolveSigning(signing: SigningOptions, path: string): ResolvedSigning {
  if (signing === null || typeof signing !== 'object') throw invalid(path, 'must be { keyId, key }');
  const { keyId } = signing;
  // keyId goes between double quotes in the Signature header: a quote or backslash would break the syntax.
  if (typeof keyId !== 'string' || keyId === '' || /["\\\r\n]/.test(keyId)) {
    throw invalid(`${path}.keyId`, 'must be a non-empty string without quotes, backslashes or line breaks');
  }
  const key = privateKey(signing.key, signing.passphrase, `${path}.key`);
  if (key.asymmetricKeyType !== 'rsa') {
    throw invalid(`${path}.key`, `must be an RSA key for rsa-sha256 signatures, got ${key.asymmetricKeyType ?? 'unknown'}`);
  }
  let certificateHeader: string | undefined;
  if (signing.certificate !== undefined) {
    const x509 = certificate(signing.certificate, `${path}.certificate`);
    if (!x509.checkPrivateKey(key)) throw invalid(`${path}.key`, `does not belong to the certificate in ${path}.certificate`);
    certificateHeader = x509.raw.toString('base64');
  }
  return { keyId, key, headers: signingHeaders(signing.headers, `${path}.headers`) ?? DEFAULT_SIGNED_HEADERS, certificateHeader };
}

/**
 * The client identity of the options: a ready `identity`, or `cert` + `key` (PEM) / `pfx`, loaded and
 * checked (key matches certificate, PKCS#12 readable). `path` is `banks.<bank>.mtls`.
 */
function resolveIdentity(tls: TlsOptions, path: string): ClientIdentity {
  if (tls.identity !== undefined) return tls.identity;
  if (tls.pfx === undefined) {
    pem(tls.cert, `${path}.cert`, 'a certificate');
    pem(tls.key, `${path}.key`, 'a private key');
  }
  try {
    return loadClientIdentity(
      tls.pfx !== undefined
        ? { pfx: tls.pfx, passphrase: tls.passphrase }
        : { cert: tls.cert, key: tls.key, keyPassphrase: tls.passphrase, chain: tls.chain },
    );
  } catch (error) {
    if (!(error instanceof ClientIdentityError)) throw error;
    const problem = error.code === 'ERR_BANKGATE_KEY_MISMATCH' ? `does not belong to the certificate in ${path}.cert` : error.message;
    throw invalid(`${path}.${error.field}`, problem, error);
  }
}
