/**
 * Test fixtures for the transport tests: real PKI from `sandbox/pki.ts` and real HTTPS "banks" on 127.0.0.1
 * that demand a client certificate, record what they received and echo it back.
 */
import { X509Certificate } from 'node:crypto';
import https from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { certificateThumbprint, createCertificateAuthority, type PemPair } from '../../../../sandbox/pki.js';

export interface TestPki {
  /** The bank's CA: signs the bank's server certificate and the client certificates the bank trusts. */
  readonly caPem: string;
  /** Another CA, trusted by nobody. */
  readonly otherCaPem: string;
  readonly server: PemPair;
  readonly client: PemPair;
  /** A client certificate from `otherCa`: the bank does not trust it. */
  readonly untrustedClient: PemPair;
  /** RSA key pair (QSeal-like) for request signing. */
  readonly sealing: PemPair;
}

export async function createTestPki(): Promise<TestPki> {
  const [ca, otherCa] = await Promise.all([createCertificateAuthority('Bank CA'), createCertificateAuthority('Rogue CA')]);
  const [server, client, untrustedClient, sealing] = await Promise.all([
    ca.issueServer({ hosts: ['127.0.0.1', 'localhost'] }),
    ca.issueClient({ commonName: 'bankgate TPP' }),
    otherCa.issueClient({ commonName: 'bankgate TPP' }),
    ca.issueClient({ commonName: 'bankgate QSeal', keyType: 'rsa' }),
  ]);
  return { caPem: ca.certPem, otherCaPem: otherCa.certPem, server, client, untrustedClient, sealing };
}

export interface ReceivedRequest {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingMessage['headers'];
  readonly body: Buffer;
  /** x5t#S256 of the client certificate the peer presented, or null. */
  readonly thumbprint: string | null;
  /** The raw request, for verifiers that parse it (http-signature). */
  readonly raw: IncomingMessage;
}

export type Handler = (request: ReceivedRequest, res: ServerResponse) => void;

export interface Upstream {
  readonly origin: string;
  readonly port: number;
  readonly received: ReceivedRequest[];
  /** The server itself, for tests that misbehave at the TLS level ('secureConnection', 'keylog'). */
  readonly server: https.Server;
  close(): Promise<void>;
}

/** Answers with JSON of what it received: method, url, headers, body (utf-8) and the client thumbprint. */
export const echo: Handler = (request, res) => {
  const { raw: _raw, body, ...rest } = request;
  res.setHeader('content-type', 'application/json');
  res.end(JSON.stringify({ ...rest, body: body.toString('utf8') }));
};

function peerThumbprint(socket: TLSSocket): string | null {
  const peer = socket.getPeerCertificate();
  if (!peer?.raw) return null;
  return certificateThumbprint(new X509Certificate(peer.raw).toString());
}

/** An mTLS HTTPS server on 127.0.0.1 that only accepts client certificates issued by `ca`. */
export async function startUpstream(tls: https.ServerOptions, handler: Handler = echo): Promise<Upstream> {
  const received: ReceivedRequest[] = [];
  const server = https.createServer({ requestCert: true, rejectUnauthorized: true, ...tls }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const request: ReceivedRequest = {
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks),
        thumbprint: peerThumbprint(req.socket as TLSSocket),
        raw: req,
      };
      received.push(request);
      handler(request, res);
    });
  });
  // Node's TLS server logs handshake failures as 'tlsClientError'; the tests provoke them on purpose.
  server.on('tlsClientError', () => {});
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    origin: `https://127.0.0.1:${port}`,
    port,
    received,
    server,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
