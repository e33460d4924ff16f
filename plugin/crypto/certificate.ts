/**
 * The parts of an X.509 certificate (RFC 5280) the portable core needs, read from DER: the DER itself (the
 * `TPP-Signature-Certificate` header carries it) and the SubjectPublicKeyInfo (to check that a key is the
 * certificate's). Validity, names and chains are the runtime's TLS stack's business.
 */
import { childrenOf, bytesOf, DER_TAG, DerError, readElement } from './der.js';
import { algorithmOf, type KeyAlgorithm } from './private-key.js';
import { firstPemBlock } from './pem.js';

export interface CertificateDer {
  readonly der: Uint8Array;
  /** SubjectPublicKeyInfo DER: what `crypto.subtle.importKey('spki', …)` takes. */
  readonly spki: Uint8Array;
  readonly keyAlgorithm: KeyAlgorithm;
}

/** The first certificate of a PEM text; undefined when there is none or it is not a certificate's DER. */
export function readCertificatePem(pem: string): CertificateDer | undefined {
  const block = firstPemBlock(pem, ['CERTIFICATE']);
  if (!block) return undefined;
  try {
    return readCertificateDer(block.der);
  } catch (error) {
    if (error instanceof DerError) return undefined;
    throw error;
  }
}

/** Certificate ::= SEQUENCE { tbsCertificate, signatureAlgorithm, signature }; throws `DerError`. */
export function readCertificateDer(der: Uint8Array): CertificateDer {
  const certificate = readElement(der);
  if (certificate.tag !== DER_TAG.sequence || certificate.end !== der.length) throw new DerError('not a certificate');
  const [tbs] = childrenOf(der, certificate);
  if (tbs?.tag !== DER_TAG.sequence) throw new DerError('no tbsCertificate');
  const fields = childrenOf(der, tbs);
  // [0] version is optional (absent means v1): serialNumber, signature, issuer, validity, subject, subjectPublicKeyInfo.
  const first = fields[0]?.tag === 0xa0 ? 1 : 0;
  const spki = fields[first + 5];
  if (spki?.tag !== DER_TAG.sequence) throw new DerError('no subjectPublicKeyInfo');
  const algorithm = childrenOf(der, spki)[0];
  if (algorithm?.tag !== DER_TAG.sequence) throw new DerError('no public key algorithm');
  return { der, spki: bytesOf(der, spki), keyAlgorithm: algorithmOf(der, algorithm) };
}
