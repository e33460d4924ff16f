/**
 * Start-up resolution of `banks.<bank>.signing`: references read, the key checked and imported into WebCrypto.
 * Problems are collected under their config path; nothing here throws.
 */
import { readSecretRef, type ProblemCollector } from '../config/secret-ref.js';
import { BankgateError } from '../errors/bankgate-error.js';
import type { SigningConfig } from './config-schema.js';
import { resolveSigningOptions, type KeyReading, type ResolvedSigning } from './signing-options.js';

export async function resolveSigning(signing: SigningConfig | undefined, at: string, collector: ProblemCollector, reading: KeyReading): Promise<ResolvedSigning | undefined> {
  if (!signing) return undefined;
  const path = `${at}.signing`;
  const key = collector.read(signing.key, `${path}.key`);
  const passphrase = signing.keyPassphrase ? collector.read(signing.keyPassphrase, `${path}.keyPassphrase`) : undefined;
  let certificate: string | undefined;
  if (signing.certificate) {
    try {
      certificate = readSecretRef(signing.certificate, `${path}.certificate`, collector.source);
    } catch (error) {
      collector.add((error as Error).message);
      return undefined;
    }
  }
  if (key === undefined) return undefined;
  try {
    return await resolveSigningOptions(
      { keyId: signing.keyId, key, ...(passphrase !== undefined ? { passphrase } : {}), ...(certificate !== undefined ? { certificate } : {}), ...(signing.headers ? { headers: signing.headers } : {}) },
      path,
      reading,
    );
  } catch (error) {
    if (error instanceof BankgateError && error.code === 'config_invalid') {
      collector.add(error.message);
      return undefined;
    }
    throw error;
  }
}
