import { once } from 'node:events';
import { X509Certificate } from 'node:crypto';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { Agent, fetch } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { certificateThumbprint, createCertificateAuthority, type CertificateAuthority, type PemPair } from '../../sandbox/pki.js';

describe('sandbox PKI', () => {
  let ca: CertificateAuthority;
  let other: CertificateAuthority;
  let server: Server;
  let url: string;
  let client: PemPair;

  beforeAll(async () => {
    [ca, other] = await Promise.all([createCertificateAuthority('test CA'), createCertificateAuthority('other CA')]);
    const serverPair = await ca.issueServer();
    client = await ca.issueClient({
      commonName: 'bankgate',
      organization: 'Bankgate AB',
      organizationIdentifier: 'PSDSE-FINA-44059',
      country: 'SE',
    });
    server = createServer(
      { ca: ca.certPem, cert: serverPair.certPem, key: serverPair.keyPem, requestCert: true, rejectUnauthorized: true },
      (req, res) => {
        const peer = (req.socket as TLSSocket).getPeerCertificate(true);
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify({ subject: peer.subject, fingerprint256: peer.fingerprint256, raw: peer.raw.toString('base64') }));
      },
    );
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    url = `https://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  });

  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  it('mutual TLS handshake succeeds with a client certificate of the CA', async () => {
    const dispatcher = new Agent({ connect: { ca: ca.certPem, cert: client.certPem, key: client.keyPem } });
    try {
      const res = await fetch(url, { dispatcher });
      expect(res.status).toBe(200);
      const body = (await res.json()) as { subject: Record<string, string>; raw: string };
      expect(body.subject.CN).toBe('bankgate');
      expect(body.subject.O).toBe('Bankgate AB');
      // The server saw exactly our certificate: same RFC 8705 thumbprint.
      const seen = new X509Certificate(Buffer.from(body.raw, 'base64')).toString();
      expect(certificateThumbprint(seen)).toBe(certificateThumbprint(client.certPem));
    } finally {
      await dispatcher.close();
    }
  });

  it('the handshake fails without a client certificate', async () => {
    const dispatcher = new Agent({ connect: { ca: ca.certPem } });
    try {
      await expect(fetch(url, { dispatcher })).rejects.toThrow();
    } finally {
      await dispatcher.close();
    }
  });

  it('the handshake fails with a client certificate of another CA', async () => {
    const stranger = await other.issueClient({ commonName: 'stranger' });
    const dispatcher = new Agent({ connect: { ca: ca.certPem, cert: stranger.certPem, key: stranger.keyPem } });
    try {
      await expect(fetch(url, { dispatcher })).rejects.toThrow();
    } finally {
      await dispatcher.close();
    }
  });

  it('the client does not trust a server certificate of another CA', async () => {
    const dispatcher = new Agent({ connect: { ca: other.certPem, cert: client.certPem, key: client.keyPem } });
    try {
      const error = await fetch(url, { dispatcher }).catch((e: unknown) => e);
      // OpenSSL sends the chain it can build, so the client sees the foreign CA in it.
      expect(['SELF_SIGNED_CERT_IN_CHAIN', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE']).toContain(
        (error as { cause?: { code?: string } }).cause?.code,
      );
    } finally {
      await dispatcher.close();
    }
  });

  it('issues RSA keys in PKCS#8 when asked, with the organizationIdentifier in the subject', async () => {
    const seal = await ca.issueClient({ commonName: 'seal', organizationIdentifier: 'PSDFR-ACPR-12345', keyType: 'rsa' });
    expect(seal.keyPem).toMatch(/^-----BEGIN PRIVATE KEY-----/);
    const cert = new X509Certificate(seal.certPem);
    expect(cert.publicKey.asymmetricKeyType).toBe('rsa');
    expect(cert.subject).toContain('PSDFR-ACPR-12345');
    expect(cert.checkIssued(new X509Certificate(ca.certPem))).toBe(true);
  });

  it('server certificates carry IP and DNS SANs', async () => {
    const pair = await ca.issueServer({ hosts: ['127.0.0.1', 'localhost', 'bank.test'] });
    const cert = new X509Certificate(pair.certPem);
    expect(cert.subjectAltName).toContain('IP Address:127.0.0.1');
    expect(cert.subjectAltName).toContain('DNS:localhost');
    expect(cert.checkHost('bank.test')).toBe('bank.test');
    expect(cert.checkIP('127.0.0.1')).toBe('127.0.0.1');
  });

  it('certificateThumbprint is the base64url SHA-256 of the DER', () => {
    const der = new X509Certificate(client.certPem).raw;
    const expected = Buffer.from(fingerprintBytes(der)).toString('base64url');
    expect(certificateThumbprint(client.certPem)).toBe(expected);
    expect(certificateThumbprint(client.certPem)).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });
});

function fingerprintBytes(data: Buffer): Buffer {
  // Independent of the implementation under test: the fingerprint256 Node computes, as bytes.
  return Buffer.from(new X509Certificate(data).fingerprint256.replaceAll(':', ''), 'hex');
}
