/**
 * The sandbox's PKI, generated at every start and written under `<dir>/sandbox-pki/` (keys 0600) for the
 * gateway config to reference by file: one CA for the servers and the good client certificates, the gateway's
 * QWAC-like certificate per bank, SG's QSeal-like RSA signing certificate, and a client certificate of a CA no
 * sandbox bank trusts.
 */
import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { X509Certificate } from 'node:crypto';
import type { SandboxPemPair } from './sandbox-file.js';
import { createCertificateAuthority, type CertificateAuthority, type PemPair } from './pki.js';

export interface SandboxPki {
  readonly dir: string;
  /** The CA (it can issue more certificates while the sandbox runs, e.g. for rotation tests). */
  readonly ca: CertificateAuthority & { readonly certFile: string };
  readonly server: PemPair;
  readonly seb: PemPair & SandboxPemPair;
  readonly sg: PemPair & SandboxPemPair;
  readonly sgSeal: PemPair & SandboxPemPair & { readonly keyId: string };
  readonly untrusted: PemPair & SandboxPemPair;
  /** A second QWAC-like certificate per bank, same subject, for certificate rotation tests. */
  readonly sebNext: PemPair & SandboxPemPair;
  readonly sgNext: PemPair & SandboxPemPair;
}

async function writePem(path: string, pem: string, secret: boolean): Promise<void> {
  await writeFile(path, pem, { mode: secret ? 0o600 : 0o644 });
  // writeFile's mode only applies when the file is created: a key file left by an earlier run keeps its mode.
  if (secret) await chmod(path, 0o600);
}

async function save(dir: string, name: string, pair: PemPair): Promise<PemPair & SandboxPemPair> {
  const certFile = join(dir, `${name}.pem`);
  const keyFile = join(dir, `${name}-key.pem`);
  await Promise.all([writePem(certFile, pair.certPem, false), writePem(keyFile, pair.keyPem, true)]);
  return { ...pair, certFile, keyFile };
}

/** Generates the PKI and writes it to `<dir>/sandbox-pki/`. */
export async function createSandboxPki(baseDir: string): Promise<SandboxPki> {
  const dir = resolve(baseDir, 'sandbox-pki');
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const [ca, foreignCa] = await Promise.all([
    createCertificateAuthority('bankgate sandbox CA'),
    createCertificateAuthority('untrusted test CA'),
  ]);
  const sebSubject = { commonName: 'bankgate-qwac-seb', organization: 'Bankgate Sandbox TPP AB', organizationIdentifier: 'PSDSE-FINA-44059', country: 'SE' };
  const sgSubject = { commonName: 'bankgate-qwac-sg', organization: 'Bankgate Sandbox TPP SAS', organizationIdentifier: 'PSDFR-ACPR-12345', country: 'FR' };
  const [server, seb, sg, sgSeal, untrusted, sebNext, sgNext] = await Promise.all([
    ca.issueServer(),
    ca.issueClient(sebSubject),
    ca.issueClient(sgSubject),
    ca.issueClient({ commonName: 'bankgate-qseal-sg', organization: 'Bankgate Sandbox TPP SAS', organizationIdentifier: 'PSDFR-ACPR-12345', country: 'FR', keyType: 'rsa' }),
    foreignCa.issueClient({ commonName: 'bankgate-untrusted', organization: 'Nobody Trusts Me Ltd', country: 'GB' }),
    ca.issueClient(sebSubject),
    ca.issueClient(sgSubject),
  ]);
  const caCertFile = join(dir, 'ca.pem');
  await writePem(caCertFile, ca.certPem, false);
  const seal = await save(dir, 'sg-qseal', sgSeal);
  // keyId as eIDAS signers write it: serial number and issuer of the QSeal certificate.
  const sealCert = new X509Certificate(sgSeal.certPem);
  const keyId = `SN=${sealCert.serialNumber},CA=${sealCert.issuer.split('\n').reverse().join(',')}`;
  return {
    dir,
    ca: { ...ca, certFile: caCertFile },
    server,
    seb: await save(dir, 'seb-qwac', seb),
    sg: await save(dir, 'sg-qwac', sg),
    sgSeal: { ...seal, keyId },
    untrusted: await save(dir, 'untrusted-qwac', untrusted),
    sebNext: await save(dir, 'seb-qwac-next', sebNext),
    sgNext: await save(dir, 'sg-qwac-next', sgNext),
  };
}
