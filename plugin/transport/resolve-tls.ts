/**
 * Start-up resolution of `mtls` and `signing`: every reference read, every PEM and PKCS#12 parsed, the
 * certificate's validity checked. Problems are collected under their config path; nothing here throws.
 */
import { X509Certificate, createPrivateKey } from 'node:crypto';
import type { ProblemCollector } from '../config/secret-ref.js';
import { readSecretRef } from '../config/secret-ref.js';
import { ClientIdentityError, loadClientIdentity, type ClientIdentity } from './client-identity.js';
import type { MtlsConfig, SigningConfig } from './config-schema.js';
import { identityFiles, pfxFileName, readIdentityMaterial } from './tls-refs.js';

export interface ResolvedTls {
  /** Config path of this block (`banks.sg.mtls`, `banks.sg.apis.pisp.mtls`), for messages. */
  readonly at: string;
  readonly identity: ClientIdentity;
  /** The pinned CA bundle (PEM). Absent: Node's root store. */
  readonly ca?: string;
  readonly servername?: string;
  readonly warnDays: number;
  readonly watch: boolean;
  readonly reloadDebounceMs: number;
  /** Absolute paths of the identity's files (empty when every reference is an env var or a value). */
  readonly files: readonly string[];
  /** Re-reads the references and validates the identity; throws an Error naming the config path. */
  reload(now?: Date): ClientIdentity;
}

export interface ResolvedSigning {
  readonly keyId: string;
  readonly key: string;
  readonly keyPassphrase?: string;
  /** PEM of the QSeal certificate, sent as `TPP-Signature-Certificate`. */
  readonly certificate?: string;
  readonly headers?: readonly string[];
}

/** Problems of a certificate's validity window at `now` (expired, not yet valid), each naming the path. */
export function validityProblems(identity: ClientIdentity, path: string, now: Date): string[] {
  const subject = identity.certificate.subject.replace(/\n/g, ', ');
  const problems: string[] = [];
  if (identity.notAfter.getTime() <= now.getTime()) {
    problems.push(`${path}: certificate ${subject} expired on ${identity.notAfter.toISOString()}; renew the QWAC and point ${path} at the new one`);
  }
  if (identity.notBefore.getTime() > now.getTime()) problems.push(`${path}: certificate ${subject} is not valid before ${identity.notBefore.toISOString()}`);
  return problems;
}

/** Reads and validates the identity, as at start and on every rotation. Throws an Error naming the path. */
function readIdentity(mtls: MtlsConfig, at: string, env: NodeJS.ProcessEnv, now: Date): ClientIdentity {
  const material = readIdentityMaterial(mtls, at, env);
  let identity: ClientIdentity;
  try {
    identity = loadClientIdentity(material, { pfxFile: pfxFileName(mtls) });
  } catch (error) {
    if (error instanceof ClientIdentityError) throw new Error(`${at}.${error.field}: ${error.message}`, { cause: error });
    throw error;
  }
  const problems = validityProblems(identity, `${at}.${mtls.pfx !== undefined ? 'pfx' : 'cert'}`, now);
  if (problems.length > 0) throw new Error(problems.join('; '));
  return identity;
}

/**
 * Reads a bank's (or an API's) QWAC and CA; refuses an expired or not-yet-valid certificate, a key that is
 * not its own, and a PKCS#12 Node cannot read (with the command that converts it). `at` is `banks.sg` or
 * `banks.sg.apis.pisp`.
 */
export function resolveTls(mtls: MtlsConfig, at: string, collector: ProblemCollector, now: Date): ResolvedTls | undefined {
  const path = `${at}.mtls`;
  const env = collector.env;
  let ca: string | undefined;
  if (mtls.ca) {
    ca = collector.read(mtls.ca, `${path}.ca`);
    if (ca !== undefined) {
      try {
        new X509Certificate(ca);
      } catch {
        collector.add(`${path}.ca: not a PEM X.509 certificate`);
      }
    }
  }
  let identity: ClientIdentity;
  try {
    identity = readIdentity(mtls, path, env, now);
  } catch (error) {
    collector.add((error as Error).message);
    return undefined;
  }
  return {
    at: path,
    identity,
    ca,
    servername: mtls.servername,
    warnDays: mtls.warnDays,
    watch: mtls.watch,
    reloadDebounceMs: mtls.reloadDebounceMs,
    files: identityFiles(mtls),
    reload: (at = new Date()) => readIdentity(mtls, path, env, at),
  };
}

export function resolveSigning(signing: SigningConfig | undefined, at: string, collector: ProblemCollector): ResolvedSigning | undefined {
  if (!signing) return undefined;
  const path = `${at}.signing`;
  const key = collector.read(signing.key, `${path}.key`);
  const keyPassphrase = signing.keyPassphrase ? collector.read(signing.keyPassphrase, `${path}.keyPassphrase`) : undefined;
  let certificate: string | undefined;
  if (signing.certificate) {
    try {
      certificate = readSecretRef(signing.certificate, `${path}.certificate`, collector.env);
      new X509Certificate(certificate);
    } catch (error) {
      collector.add(error instanceof Error && error.message.startsWith(path) ? error.message : `${path}.certificate: not a PEM X.509 certificate`);
      return undefined;
    }
  }
  if (key === undefined) return undefined;
  try {
    const privateKey = createPrivateKey({ key, format: 'pem', passphrase: keyPassphrase });
    if (certificate !== undefined && !new X509Certificate(certificate).checkPrivateKey(privateKey)) {
      collector.add(`${path}.key: does not belong to the certificate in ${path}.certificate`);
      return undefined;
    }
  } catch {
    collector.add(`${path}.key: not a readable PEM private key; check the file and keyPassphrase`);
    return undefined;
  }
  return { keyId: signing.keyId, key, keyPassphrase, certificate, headers: signing.headers };
}
