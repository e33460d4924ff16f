/** The client certificate of a request, as the sandbox banks see it. */
import { X509Certificate } from 'node:crypto';
import type { Socket } from 'node:net';
import { TLSSocket } from 'node:tls';
import { certificateThumbprint } from './pki.js';

/** The peer certificate of a TLS socket, or undefined on plain sockets and when the client sent none. */
export function peerCertificate(socket: Socket): X509Certificate | undefined {
  if (!(socket instanceof TLSSocket)) return undefined;
  return socket.getPeerX509Certificate();
}

/** True when the peer certificate chains to a CA the server trusts (`requestCert` servers only). */
export function peerAuthorized(socket: Socket): boolean {
  return socket instanceof TLSSocket && socket.authorized;
}

export function peerThumbprint(socket: Socket): string | undefined {
  const cert = peerCertificate(socket);
  return cert ? certificateThumbprint(cert.toString()) : undefined;
}

/**
 * RFC 4514-style subject DN (most specific first: `CN=…,O=…,C=…`), the form of `tls_client_auth_subject_dn`.
 * The registered DN and the presented certificate's are both produced by this function, so they compare exactly.
 */
export function subjectDn(cert: X509Certificate | string): string {
  const x509 = typeof cert === 'string' ? new X509Certificate(cert) : cert;
  return x509.subject.split('\n').reverse().join(',');
}
