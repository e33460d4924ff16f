/**
 * Reads the references of `banks.<bank>.mtls` into identity material, at start and again on every
 * certificate rotation. PEM references are text; a PKCS#12 is bytes: a file read as is, or base64 in an env
 * var or value (binary cannot live in an environment variable).
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { readSecretRef, type SecretRef } from '../config/secret-ref.js';
import type { ClientIdentityMaterial } from './client-identity.js';
import type { MtlsConfig } from './config-schema.js';

/**
 * PEM from an env var is often stored with its newlines escaped (`-----BEGIN…\nMIIB…`) by secret managers and
 * `.env` files: restore them, since OpenSSL needs real line breaks.
 */
function pemText(ref: SecretRef, path: string, env: NodeJS.ProcessEnv): string {
  const text = readSecretRef(ref, path, env);
  return 'file' in ref || text.includes('\n') ? text : text.replace(/\\n/g, '\n');
}

/** The bytes behind a reference; the thrown message names the config path. */
export function readBinaryRef(ref: SecretRef, path: string, env: NodeJS.ProcessEnv): Buffer {
  if ('file' in ref) {
    try {
      return readFileSync(resolve(ref.file));
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      throw new Error(`${path}: file ${ref.file} ${code === 'ENOENT' ? 'not found' : `unreadable (${code})`}`);
    }
  }
  const text = readSecretRef(ref, path, env).replace(/\s+/g, '');
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(text)) throw new Error(`${path}: must be the base64 of the PKCS#12 file (e.g. \`base64 -w0 qwac.pfx\`)`);
  return Buffer.from(text, 'base64');
}

/** Reads every identity reference of an mtls block. Throws an Error whose message starts with the field's path. */
export function readIdentityMaterial(mtls: MtlsConfig, at: string, env: NodeJS.ProcessEnv): ClientIdentityMaterial {
  const secret = (ref: SecretRef | undefined, field: string) => (ref === undefined ? undefined : readSecretRef(ref, `${at}.${field}`, env));
  const pem = (ref: SecretRef | undefined, field: string) => (ref === undefined ? undefined : pemText(ref, `${at}.${field}`, env));
  return {
    cert: pem(mtls.cert, 'cert'),
    key: pem(mtls.key, 'key'),
    keyPassphrase: secret(mtls.keyPassphrase, 'keyPassphrase'),
    chain: pem(mtls.chain, 'chain'),
    pfx: mtls.pfx === undefined ? undefined : readBinaryRef(mtls.pfx, `${at}.pfx`, env),
    passphrase: secret(mtls.passphrase, 'passphrase'),
  };
}

/** Absolute paths of the identity's files: what hot rotation watches. */
export function identityFiles(mtls: MtlsConfig): string[] {
  const refs = [mtls.cert, mtls.key, mtls.keyPassphrase, mtls.chain, mtls.pfx, mtls.passphrase];
  return [...new Set(refs.flatMap((ref) => (ref !== undefined && 'file' in ref ? [resolve(ref.file)] : [])))];
}

/** The file named in a PKCS#12 conversion command. */
export function pfxFileName(mtls: MtlsConfig): string | undefined {
  return mtls.pfx !== undefined && 'file' in mtls.pfx ? mtls.pfx.file : undefined;
}
