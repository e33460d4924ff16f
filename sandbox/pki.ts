/**
 * Test PKI for the sandbox banks and the transport tests: a CA, server certificates for 127.0.0.1,
 * QWAC-like client certificates. Generated in memory at start and never committed, so no private key
 * ever lives in the repository.
 */
// @peculiar/x509 resolves its algorithm providers through tsyringe, which needs the Reflect polyfill first.
import 'reflect-metadata';
import { createHash, webcrypto, X509Certificate as NodeX509Certificate } from 'node:crypto';
import { isIP } from 'node:net';
import * as x509 from '@peculiar/x509';

x509.cryptoProvider.set(webcrypto as unknown as Crypto);

export interface PemPair {
  certPem: string;
  keyPem: string;
}

export interface IssueServerOptions {
  /** IP addresses and DNS names for the subjectAltName. Default `['127.0.0.1', 'localhost']`. */
  hosts?: string[];
  notBefore?: Date;
  notAfter?: Date;
}

export interface IssueClientOptions {
  commonName: string;
  organization?: string;
  /** eIDAS organisationIdentifier (OID 2.5.4.97), e.g. `PSDSE-FINA-44059`, as in a real QWAC. */
  organizationIdentifier?: string;
  country?: string;
  notBefore?: Date;
  notAfter?: Date;
  /** `ec` (P-256, default, fast) or `rsa` (2048; a QSeal key must be RSA for `rsa-sha256` signatures). */
  keyType?: 'ec' | 'rsa';
}

export interface CertificateAuthority extends PemPair {
  /** A TLS server certificate (serverAuth EKU), ~1 year by default. */
  issueServer(opts?: IssueServerOptions): Promise<PemPair>;
  /** A TLS client certificate (clientAuth EKU, plus digitalSignature so it can seal). */
  issueClient(opts: IssueClientOptions): Promise<PemPair>;
}

const EC = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
const RSA = {
  name: 'RSASSA-PKCS1-v1_5',
  modulusLength: 2048,
  publicExponent: new Uint8Array([1, 0, 1]),
  hash: 'SHA-256',
} as const;
const ORGANIZATION_IDENTIFIER_OID = '2.5.4.97';
const DAY_MS = 24 * 60 * 60 * 1000;

async function generateKeys(keyType: 'ec' | 'rsa'): Promise<CryptoKeyPair> {
  const algorithm = keyType === 'rsa' ? RSA : EC;
  return (await webcrypto.subtle.generateKey(algorithm, true, ['sign', 'verify'])) as CryptoKeyPair;
}

async function pkcs8Pem(key: CryptoKey): Promise<string> {
  const der = await webcrypto.subtle.exportKey('pkcs8', key);
  return x509.PemConverter.encode(der, 'PRIVATE KEY');
}

function validity(notBefore?: Date, notAfter?: Date): { notBefore: Date; notAfter: Date } {
  // Backdated a minute so that a certificate issued just now is valid on a peer whose clock lags.
  const from = notBefore ?? new Date(Date.now() - 60_000);
  return { notBefore: from, notAfter: notAfter ?? new Date(from.getTime() + 365 * DAY_MS) };
}

function randomSerial(): string {
  // Positive (high bit clear), 16 random bytes: unique enough that two CAs never collide.
  const bytes = webcrypto.getRandomValues(new Uint8Array(16));
  bytes[0] = bytes[0]! & 0x7f;
  return Buffer.from(bytes).toString('hex');
}

/**
 * Creates a self-signed CA (EC P-256) that issues server and client certificates.
 *
 * @example
 * const ca = await createCertificateAuthority('bankgate sandbox CA');
 * const server = await ca.issueServer(); // 127.0.0.1 + localhost
 * const client = await ca.issueClient({ commonName: 'bankgate', organizationIdentifier: 'PSDSE-FINA-1' });
 */
export async function createCertificateAuthority(commonName: string): Promise<CertificateAuthority> {
  const caKeys = await generateKeys('ec');
  const caName: x509.JsonName = [{ CN: [commonName] }, { O: ['bankgate sandbox'] }];
  const caCert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: randomSerial(),
    name: caName,
    keys: caKeys,
    signingAlgorithm: EC,
    ...validity(undefined, new Date(Date.now() + 5 * 365 * DAY_MS)),
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(caKeys.publicKey),
    ],
  });
  const authorityKeyId = await x509.AuthorityKeyIdentifierExtension.create(caKeys.publicKey);

  async function issue(
    subject: x509.JsonName,
    keyType: 'ec' | 'rsa',
    extensions: x509.Extension[],
    notBefore?: Date,
    notAfter?: Date,
  ): Promise<PemPair> {
    const keys = await generateKeys(keyType);
    const cert = await x509.X509CertificateGenerator.create({
      serialNumber: randomSerial(),
      subject,
      issuer: caCert.subject,
      publicKey: keys.publicKey,
      signingKey: caKeys.privateKey,
      signingAlgorithm: EC,
      ...validity(notBefore, notAfter),
      extensions: [
        new x509.BasicConstraintsExtension(false, undefined, true),
        await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
        authorityKeyId,
        ...extensions,
      ],
    });
    return { certPem: cert.toString('pem'), keyPem: await pkcs8Pem(keys.privateKey) };
  }

  return {
    certPem: caCert.toString('pem'),
    keyPem: await pkcs8Pem(caKeys.privateKey),
    issueServer(opts = {}) {
      const hosts = opts.hosts ?? ['127.0.0.1', 'localhost'];
      if (hosts.length === 0) throw new Error('issueServer: hosts must name at least one IP address or DNS name');
      const names: x509.JsonGeneralNames = hosts.map((host) => ({ type: isIP(host) ? 'ip' : 'dns', value: host }));
      return issue(
        [{ CN: [hosts[0]!] }, { O: ['bankgate sandbox'] }],
        'ec',
        [
          new x509.SubjectAlternativeNameExtension(names),
          new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
          new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment, true),
        ],
        opts.notBefore,
        opts.notAfter,
      );
    },
    issueClient(opts) {
      if (!opts.commonName) throw new Error('issueClient: commonName is required');
      // Attribute order C, O, organizationIdentifier, CN as in eIDAS QWACs.
      const subject: x509.JsonName = [];
      if (opts.country) subject.push({ C: [opts.country] });
      if (opts.organization) subject.push({ O: [opts.organization] });
      if (opts.organizationIdentifier) subject.push({ [ORGANIZATION_IDENTIFIER_OID]: [opts.organizationIdentifier] });
      subject.push({ CN: [opts.commonName] });
      return issue(
        subject,
        opts.keyType ?? 'ec',
        [
          new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.clientAuth]),
          new x509.KeyUsagesExtension(
            x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.nonRepudiation | x509.KeyUsageFlags.keyEncipherment,
            true,
          ),
        ],
        opts.notBefore,
        opts.notAfter,
      );
    },
  };
}

/**
 * The RFC 8705 §3.1 `x5t#S256` of a certificate: base64url (no padding) SHA-256 of its DER encoding.
 * Accepts a PEM (the first certificate in it is used).
 */
export function certificateThumbprint(certPem: string): string {
  const der = new NodeX509Certificate(certPem).raw;
  return createHash('sha256').update(der).digest('base64url');
}
