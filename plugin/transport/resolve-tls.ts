import { X509Certificate, createPrivateKey } from 'node:crypto';
import type { z } from 'zod';
import type { ProblemCollector } from '../config/secret-ref.js';
import type { mtlsSchema, signingSchema } from './config-schema.js';

export interface ResolvedTls {
  readonly cert: string;
  readonly key: string;
  readonly ca?: string;
  readonly certNotAfter: Date;
}

export interface ResolvedSigning {
  readonly keyId: string;
  readonly key: string;
}

/** Reads a bank's QWAC and CA; refuses an expired or not-yet-valid certificate and a key that is not its own. */
export function resolveTls(mtls: z.output<typeof mtlsSchema>, at: string, collector: ProblemCollector, now: Date): ResolvedTls | undefined {
  const cert = collector.read(mtls.cert, `${at}.mtls.cert`);
  const key = collector.read(mtls.key, `${at}.mtls.key`);
  const ca = mtls.ca ? collector.read(mtls.ca, `${at}.mtls.ca`) : undefined;
  if (cert === undefined || key === undefined) return undefined;
  let x509: X509Certificate;
  try {
    x509 = new X509Certificate(cert);
  } catch {
    collector.add(`${at}.mtls.cert: not a PEM X.509 certificate`);
    return undefined;
  }
  const notAfter = new Date(x509.validTo);
  if (notAfter.getTime() <= now.getTime()) {
    collector.add(`${at}.mtls.cert: certificate ${x509.subject.replace(/\n/g, ', ')} expired on ${notAfter.toISOString()}; renew the QWAC`);
  }
  if (new Date(x509.validFrom).getTime() > now.getTime()) collector.add(`${at}.mtls.cert: certificate is not valid before ${new Date(x509.validFrom).toISOString()}`);
  const privateKey = readPrivateKey(key, `${at}.mtls.key`, collector);
  if (privateKey && !x509.checkPrivateKey(privateKey)) collector.add(`${at}.mtls.key: the key does not belong to the certificate in ${at}.mtls.cert`);
  if (ca !== undefined) {
    try {
      new X509Certificate(ca);
    } catch {
      collector.add(`${at}.mtls.ca: not a PEM X.509 certificate`);
    }
  }
  return { cert, key, ca, certNotAfter: notAfter };
}

export function resolveSigning(signing: z.output<typeof signingSchema> | undefined, at: string, collector: ProblemCollector): ResolvedSigning | undefined {
  if (!signing) return undefined;
  const key = collector.read(signing.key, `${at}.signing.key`);
  if (key === undefined || !readPrivateKey(key, `${at}.signing.key`, collector)) return undefined;
  return { keyId: signing.keyId, key };
}

function readPrivateKey(pem: string, path: string, collector: ProblemCollector) {
  try {
    return createPrivateKey(pem);
  } catch {
    collector.add(`${path}: not a readable unencrypted PEM private key`);
    return undefined;
  }
}
