/**
 * A client identity (the QWAC and its key) in PEM, checked with Web APIs only: for the runtimes whose TLS
 * stack takes PEM text and says little when it is wrong (Deno's `createHttpClient`, Bun's `fetch` `tls`).
 * Refused here, with the path and the fix: an unreadable certificate or key, a key that is not the
 * certificate's (a signature made with the key must verify under the certificate), an encrypted key
 * (WebCrypto cannot decrypt it), a certificate outside its validity window. Also what rotation and
 * certificate-bound tokens need: the `x5t#S256` thumbprint and the validity dates.
 */
import { readSecretRef, type SecretRef, type SecretSource } from '../config/secret-ref.js';
import { toBase64Url } from '../crypto/base64.js';
import { readCertificatePem } from '../crypto/certificate.js';
import { childrenOf, contentOf, DerError, readElement, type DerElement } from '../crypto/der.js';
import { sha256 } from '../crypto/digest.js';
import { firstPemBlock, pemBlocks } from '../crypto/pem.js';
import { PrivateKeyError, readPrivateKeyPem, type KeyAlgorithm } from '../crypto/private-key.js';
import type { FileMtlsConfig } from './config-schema.js';

export interface PemIdentity {
  /** The certificate, then the `chain` given (PEM), as the TLS stack presents them. */
  readonly certPem: string;
  /** The private key as given (PEM, unencrypted). */
  readonly keyPem: string;
  /** The pinned CA bundle (PEM), when `ca` is set. */
  readonly caPem?: string;
  /** RFC 8705 `x5t#S256` of the leaf certificate. */
  readonly thumbprint: string;
  readonly notBefore: Date;
  readonly notAfter: Date;
}

/** The validity window of a certificate (RFC 5280 §4.1.2.5), from the DER of one PEM certificate. */
export interface CertificateValidity {
  readonly der: Uint8Array;
  readonly notBefore: Date;
  readonly notAfter: Date;
  readonly thumbprint: string;
}

const CURVES: Record<string, string> = { '2a8648ce3d030107': 'P-256', '2b81040022': 'P-384', '2b81040023': 'P-521' };

/**
 * Reads `banks.<bank>.mtls` (PEM form) through the runtime's references and checks it. Throws an Error whose
 * message starts with the config path of the field to fix; never echoes a key. `runtime` is named in the
 * messages (`the deno runtime reads PEM only`).
 */
export async function readPemIdentity(mtls: FileMtlsConfig, at: string, source: SecretSource, now: Date): Promise<PemIdentity> {
  if (mtls.kind === 'pkcs12') {
    const file = 'file' in mtls.pfx ? mtls.pfx.file : 'qwac.p12';
    const base = file.replace(/\.(pfx|p12)$/i, '');
    throw new Error(
      `${at}.pfx: the ${source.name} runtime takes the client certificate as PEM only; convert the PKCS#12 once ` +
        `(\`openssl pkcs12 -in ${file} -clcerts -nokeys -out ${base}-cert.pem\` and \`openssl pkcs12 -in ${file} -nocerts -nodes -out ${base}-key.pem\`, ` +
        `add -legacy for an old RC2/3DES file) and give them as cert and key`,
    );
  }
  const certPem = pemText(mtls.cert, `${at}.cert`, source);
  const keyPem = pemText(mtls.key, `${at}.key`, source);
  const chainPem = mtls.chain ? pemText(mtls.chain, `${at}.chain`, source) : undefined;
  const caPem = mtls.ca ? pemText(mtls.ca, `${at}.ca`, source) : undefined;
  if (caPem !== undefined && !readCertificatePem(caPem)) throw new Error(`${at}.ca: not a PEM X.509 certificate`);
  if (chainPem !== undefined && !readCertificatePem(chainPem)) throw new Error(`${at}.chain: not a PEM X.509 certificate`);
  if (mtls.keyPassphrase) {
    throw new Error(`${at}.keyPassphrase: the ${source.name} runtime cannot decrypt a private key; decrypt it once (\`openssl pkcs8 -topk8 -nocrypt -in key.pem -out key-plain.pem\`), keep that file 0600 and drop keyPassphrase`);
  }
  const certificate = readCertificatePem(certPem);
  if (!certificate) throw new Error(`${at}.cert: holds no readable PEM certificate (-----BEGIN CERTIFICATE-----)`);
  await checkKeyPair(keyPem, certPem, at, source.name);
  const validity = await certificateValidity(certPem);
  if (!validity) throw new Error(`${at}.cert: the certificate's validity dates cannot be read`);
  if (validity.notAfter.getTime() <= now.getTime()) throw new Error(`${at}.cert: certificate expired on ${validity.notAfter.toISOString()}; renew the QWAC and point ${at} at the new one`);
  if (validity.notBefore.getTime() > now.getTime()) throw new Error(`${at}.cert: certificate is not valid before ${validity.notBefore.toISOString()}`);
  return {
    certPem: chainPem === undefined ? certPem : `${certPem.trimEnd()}\n${chainPem.trim()}\n`,
    keyPem,
    ...(caPem !== undefined ? { caPem } : {}),
    thumbprint: validity.thumbprint,
    notBefore: validity.notBefore,
    notAfter: validity.notAfter,
  };
}

/** The first certificate of a PEM text: its DER, validity window and thumbprint; undefined when unreadable. */
export async function certificateValidity(pem: string): Promise<CertificateValidity | undefined> {
  const block = firstPemBlock(pem, ['CERTIFICATE']);
  if (!block) return undefined;
  try {
    const der = block.der;
    const tbs = childrenOf(der, readElement(der))[0];
    if (!tbs) return undefined;
    const fields = childrenOf(der, tbs);
    // [0] version is optional: serialNumber, signature, issuer, validity, …
    const validity = fields[(fields[0]?.tag === 0xa0 ? 1 : 0) + 3];
    if (!validity) return undefined;
    const [notBefore, notAfter] = childrenOf(der, validity);
    if (!notBefore || !notAfter) return undefined;
    return { der, notBefore: timeOf(der, notBefore), notAfter: timeOf(der, notAfter), thumbprint: toBase64Url(await sha256(der)) };
  } catch (error) {
    if (error instanceof DerError) return undefined;
    throw error;
  }
}

/** UTCTime (YYMMDDHHMMSSZ, RFC 5280: years 50–99 are 19xx) or GeneralizedTime (YYYYMMDDHHMMSSZ). */
function timeOf(der: Uint8Array, element: DerElement): Date {
  const text = new TextDecoder().decode(contentOf(der, element));
  const match = element.tag === 0x17 ? /^(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/.exec(text) : element.tag === 0x18 ? /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/.exec(text) : null;
  if (!match) throw new DerError('not a certificate time');
  let year = Number(match[1]);
  if (element.tag === 0x17) year += year >= 50 ? 1900 : 2000;
  return new Date(Date.UTC(year, Number(match[2]) - 1, Number(match[3]), Number(match[4]), Number(match[5]), Number(match[6])));
}

/** PEM from an env var often has its newlines escaped (`\n`): restored, as the TLS stacks need real ones. */
function pemText(ref: SecretRef, path: string, source: SecretSource): string {
  const text = readSecretRef(ref, path, source);
  return 'file' in ref || text.includes('\n') ? text : text.replace(/\\n/g, '\n');
}

/**
 * The key belongs to the certificate exactly when a signature it makes verifies under the certificate's
 * public key: one sign and one verify with WebCrypto (RSA, ECDSA on P-256/384/521, Ed25519).
 */
async function checkKeyPair(keyPem: string, certPem: string, at: string, runtime: string): Promise<void> {
  let key;
  try {
    key = readPrivateKeyPem(keyPem);
  } catch (error) {
    if (error instanceof PrivateKeyError && error.problem === 'encrypted') {
      throw new Error(`${at}.key: is an encrypted private key, which the ${runtime} runtime cannot decrypt; decrypt it once (\`openssl pkcs8 -topk8 -nocrypt -in key.pem -out key-plain.pem\`) and keep that file 0600`);
    }
    if (pemBlocks(keyPem).some((block) => block.label === 'EC PRIVATE KEY')) {
      throw new Error(`${at}.key: is a SEC1 EC key (BEGIN EC PRIVATE KEY); convert it to PKCS#8 once: \`openssl pkcs8 -topk8 -nocrypt -in key.pem -out key-pkcs8.pem\``);
    }
    throw new Error(`${at}.key: ${(error as Error).message}`);
  }
  const certificate = readCertificatePem(certPem)!;
  const algorithm = signatureAlgorithm(certificate.keyAlgorithm, certificate.spki);
  if (!algorithm || key.algorithm !== certificate.keyAlgorithm) {
    throw new Error(`${at}.key: does not belong to the certificate in ${at}.cert (${key.algorithm} key, ${certificate.keyAlgorithm} certificate)`);
  }
  let matches: boolean;
  try {
    const privateKey = await crypto.subtle.importKey('pkcs8', key.pkcs8 as Uint8Array<ArrayBuffer>, algorithm.import, false, ['sign']);
    const publicKey = await crypto.subtle.importKey('spki', certificate.spki as Uint8Array<ArrayBuffer>, algorithm.import, false, ['verify']);
    const challenge = crypto.getRandomValues(new Uint8Array(32));
    const signature = await crypto.subtle.sign(algorithm.sign, privateKey, challenge);
    matches = await crypto.subtle.verify(algorithm.sign, publicKey, signature, challenge);
  } catch {
    throw new Error(`${at}.key: could not be used with the certificate in ${at}.cert (WebCrypto refused the pair); check that both files are the QWAC's`);
  }
  if (!matches) throw new Error(`${at}.key: does not belong to the certificate in ${at}.cert`);
}

type SignatureAlgorithm = { import: RsaHashedImportParams | EcKeyImportParams | Algorithm; sign: Algorithm | EcdsaParams };

function signatureAlgorithm(keyAlgorithm: KeyAlgorithm, spki: Uint8Array): SignatureAlgorithm | undefined {
  if (keyAlgorithm === 'rsa') return { import: { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' }, sign: { name: 'RSASSA-PKCS1-v1_5' } };
  if (keyAlgorithm === 'ed25519') return { import: { name: 'Ed25519' }, sign: { name: 'Ed25519' } };
  if (keyAlgorithm !== 'ec') return undefined;
  // SubjectPublicKeyInfo { AlgorithmIdentifier { id-ecPublicKey, namedCurve OID }, BIT STRING }.
  const identifier = childrenOf(spki, readElement(spki))[0];
  const curveOid = identifier ? childrenOf(spki, identifier)[1] : undefined;
  if (curveOid?.tag !== 0x06) return undefined;
  let hex = '';
  for (const byte of contentOf(spki, curveOid)) hex += byte.toString(16).padStart(2, '0');
  const namedCurve = CURVES[hex];
  return namedCurve ? { import: { name: 'ECDSA', namedCurve }, sign: { name: 'ECDSA', hash: 'SHA-256' } } : undefined;
}
