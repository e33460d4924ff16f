/**
 * Start-up resolution of `mtls` on Node: every reference read, every PEM and PKCS#12 parsed, the
 * certificate's validity checked. Problems are collected under their config path; nothing here throws.
 */
import { X509Certificate } from 'node:crypto';
import type { ProblemCollector, SecretSource } from '../../../config/secret-ref.js';
import type { FileMtlsConfig as MtlsConfig } from '../../../transport/config-schema.js';
import { ClientIdentityError, loadClientIdentity, type ClientIdentity } from './client-identity.js';
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
function readIdentity(mtls: MtlsConfig, at: string, source: SecretSource, now: Date): ClientIdentity {
  const material = readIdentityMaterial(mtls, at, source);
  let identity: ClientIdentity;
  try {
    identity = loadClientIdentity(material, { pfxFile: pfxFileName(mtls) });
  } catch (error) {
    if (error instanceof ClientIdentityError) throw new Error(`${at}.${error.field}: ${error.message}`, { cause: error });
    throw error;
  }
  const problems = validityProblems(identity, `${at}.${mtls.kind === 'pkcs12' ? 'pfx' : 'cert'}`, now);
  if (problems.length > 0) throw new Error(problems.join('; '));
  return identity;
}

/**
 * Reads a bank's (or an API's) QWAC and CA; refuses an expired or not-yet-valid certificate, a key that is
 * not its own, and a PKCS#12 Node cannot read (with the command that converts it). `path` is the mtls
 * block's (`banks.sg.mtls`, `banks.sg.apis.pisp.mtls`).
 */
export function resolveTls(mtls: MtlsConfig, path: string, collector: ProblemCollector, now: Date): ResolvedTls | undefined {
  const source = collector.source;
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
    identity = readIdentity(mtls, path, source, now);
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
    reload: (at = new Date()) => readIdentity(mtls, path, source, at),
  };
}
