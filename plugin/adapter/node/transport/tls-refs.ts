/**
 * Reads the references of `banks.<bank>.mtls` into identity material, at start and again on every
 * certificate rotation, through the core's reference reader (`{ env }` from the runtime's environment,
 * `{ file }` from disk). PEM references are text; a PKCS#12 is bytes: a file read as is, or base64 in an env
 * var or value (binary cannot live in an environment variable).
 */
import { resolve } from 'node:path';
import { readBinarySecretRef, readSecretRef, type SecretRef, type SecretSource } from '../../../config/secret-ref.js';
import type { FileMtlsConfig as MtlsConfig } from '../../../transport/config-schema.js';
import type { ClientIdentityMaterial } from './client-identity.js';

/**
 * PEM from an env var is often stored with its newlines escaped (`-----BEGIN…\nMIIB…`) by secret managers and
 * `.env` files: restore them, since OpenSSL needs real line breaks.
 */
function pemText(ref: SecretRef, path: string, source: SecretSource): string {
  const text = readSecretRef(ref, path, source);
  return 'file' in ref || text.includes('\n') ? text : text.replace(/\\n/g, '\n');
}

/** Reads every identity reference of an mtls block. Throws an Error whose message starts with the field's path. */
export function readIdentityMaterial(mtls: MtlsConfig, at: string, source: SecretSource): ClientIdentityMaterial {
  const secret = (ref: SecretRef | undefined, field: string) => (ref === undefined ? undefined : readSecretRef(ref, `${at}.${field}`, source));
  if (mtls.kind === 'pkcs12') {
    return { pfx: readBinarySecretRef(mtls.pfx, `${at}.pfx`, source), passphrase: secret(mtls.passphrase, 'passphrase') };
  }
  const pem = (ref: SecretRef | undefined, field: string) => (ref === undefined ? undefined : pemText(ref, `${at}.${field}`, source));
  return {
    cert: pem(mtls.cert, 'cert'),
    key: pem(mtls.key, 'key'),
    keyPassphrase: secret(mtls.keyPassphrase, 'keyPassphrase'),
    chain: pem(mtls.chain, 'chain'),
  };
}

/** Absolute paths of the identity's files: what hot rotation watches. */
export function identityFiles(mtls: MtlsConfig): string[] {
  const refs = mtls.kind === 'pkcs12' ? [mtls.pfx, mtls.passphrase] : [mtls.cert, mtls.key, mtls.keyPassphrase, mtls.chain];
  return [...new Set(refs.flatMap((ref) => (ref !== undefined && 'file' in ref ? [resolve(ref.file)] : [])))];
}

/** The file named in a PKCS#12 conversion command. */
export function pfxFileName(mtls: MtlsConfig): string | undefined {
  return mtls.kind === 'pkcs12' && 'file' in mtls.pfx ? mtls.pfx.file : undefined;
}
