/**
 * Options of the Node transport, and their one-time validation. Like a Kong schema: every field is checked
 * (and every PEM parsed) when the factory runs, so `send()` reads resolved values without fallbacks and a bad
 * certificate is a start-up error naming its config path, not a 502 on the first call. Signing is the
 * core's (`prepareSigning`, WebCrypto); Node adds only the decryption of an encrypted QSeal key.
 */
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { BankgateError } from '../../../errors/bankgate-error.js';
import { DEFAULT_KEEP_ALIVE_MS, DEFAULT_MAX_RESPONSE_BYTES, DEFAULT_TIMEOUTS } from '../../../transport/defaults.js';
import { signingOf, type ResolvedSigning, type SigningOptions } from '../../../transport/signing-options.js';
import { ClientIdentityError, loadClientIdentity, type ClientIdentity } from './client-identity.js';

export type { SigningOptions } from '../../../transport/signing-options.js';

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
  /** Deadline of one attempt, headers and body (undici's `bodyMs` is an idle timeout). Default 60 000. */
  readonly totalMs?: number;
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
  /** Sign requests with draft-cavage HTTP Signatures (`Digest` + `Signature`), for banks that require it: PEM options, or signing resolved from the config. */
  readonly signing?: SigningOptions | ResolvedSigning;
  /** Send `accept-encoding: gzip, deflate, br`. Default false; compressed answers are decoded either way. */
  readonly acceptCompressed?: boolean;
}

export interface ResolvedNodeTransportOptions {
  readonly bank: string;
  readonly tls: {
    readonly ca?: string[];
    readonly identity: ClientIdentity;
    readonly servername?: string;
  };
  readonly timeouts: { readonly connectMs: number; readonly headersMs: number; readonly bodyMs: number; readonly totalMs: number };
  readonly maxResponseBytes: number;
  readonly keepAliveMs: number;
  readonly signing?: ResolvedSigning;
  readonly acceptCompressed: boolean;
}

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
      totalMs: positiveInteger(timeouts.totalMs, `${at}.timeouts.totalMs`, DEFAULT_TIMEOUTS.totalMs),
    },
    maxResponseBytes: positiveInteger(options.maxResponseBytes, `${at}.maxResponseBytes`, DEFAULT_MAX_RESPONSE_BYTES),
    keepAliveMs: positiveInteger(options.keepAliveMs, `${at}.keepAliveMs`, DEFAULT_KEEP_ALIVE_MS),
    signing: options.signing === undefined ? undefined : signingOf(options.signing, `${at}.signing`, { runtime: 'node', decryptPrivateKey: decryptPrivateKeyPem }),
    acceptCompressed: options.acceptCompressed === true,
  };
  return resolved;
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

/** An encrypted PEM private key as unencrypted PKCS#8 PEM, for WebCrypto: what Node can do and WebCrypto cannot. */
export function decryptPrivateKeyPem(pem: string, passphrase: string | undefined): string {
  return createPrivateKey({ key: pem, format: 'pem', ...(passphrase !== undefined ? { passphrase } : {}) })
    .export({ type: 'pkcs8', format: 'pem' })
    .toString();
}
