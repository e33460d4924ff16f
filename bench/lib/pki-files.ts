/**
 * The benchmark PKI, written as PEM files for every candidate (nginx reads files): one CA that signs the
 * upstream's server certificate (127.0.0.1, localhost) and the client certificate the candidates present.
 * Generated per run in a temp directory, never committed.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createCertificateAuthority } from '../../sandbox/pki.js';

export interface PkiFiles {
  readonly caCert: string;
  readonly serverCert: string;
  readonly serverKey: string;
  readonly clientCert: string;
  readonly clientKey: string;
}

export async function writePkiFiles(dir: string): Promise<PkiFiles> {
  const ca = await createCertificateAuthority('bankgate bench CA');
  const [server, client] = await Promise.all([ca.issueServer({ hosts: ['127.0.0.1', 'localhost'] }), ca.issueClient({ commonName: 'bench TPP' })]);
  const files: PkiFiles = {
    caCert: join(dir, 'ca.pem'),
    serverCert: join(dir, 'server.pem'),
    serverKey: join(dir, 'server-key.pem'),
    clientCert: join(dir, 'client.pem'),
    clientKey: join(dir, 'client-key.pem'),
  };
  writeFileSync(files.caCert, ca.certPem);
  writeFileSync(files.serverCert, server.certPem);
  writeFileSync(files.serverKey, server.keyPem, { mode: 0o600 });
  writeFileSync(files.clientCert, client.certPem);
  writeFileSync(files.clientKey, client.keyPem, { mode: 0o600 });
  return files;
}
