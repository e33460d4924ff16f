/**
 * Bun's fetch reports a bank that closes the connection right after the TLS handshake (how TLS 1.3 servers
 * refuse a client certificate without an alert) as a plain `ECONNRESET`, like any flaky network. When a call
 * fails so, one diagnostic handshake with the same identity (`node:tls`, which Bun implements) tells them
 * apart: a server that ends the connection without a single byte of answer to a request rejected the
 * handshake (`HandshakeRejectedError` → `bank_tls_error`); one that answers did not (the reset stays a reset).
 */
import { connect } from 'node:tls';
import { isIP } from 'node:net';
import { HandshakeRejectedError } from '../../transport/transport-errors.js';
import type { PemIdentity } from '../../transport/pem-identity.js';

/** How long the probe may take (`probeBudgetMs`), and the failed call's signal: no verdict past either is no refusal. */
export interface ProbeBounds {
  readonly timeoutMs: number;
  readonly signal?: AbortSignal;
}

/** True when the server at `url` closes a fresh TLS connection presenting `identity` without answering. */
export function handshakeRejected(url: URL, identity: PemIdentity, bounds: ProbeBounds): Promise<boolean> {
  if (bounds.signal?.aborted) return Promise.resolve(false);
  return new Promise((resolve) => {
    const port = Number(url.port || 443);
    const host = url.hostname.replace(/^\[|\]$/g, '');
    const socket = connect({
      host,
      port,
      cert: identity.certPem,
      key: identity.keyPem,
      ...(identity.caPem ? { ca: identity.caPem } : {}),
      ...(isIP(host) ? {} : { servername: host }),
      ALPNProtocols: ['http/1.1'],
    });
    let answered = false;
    let secured = false;
    const done = (rejected: boolean) => {
      clearTimeout(timer);
      bounds.signal?.removeEventListener('abort', abandon);
      socket.destroy();
      resolve(rejected);
    };
    const timer = setTimeout(() => done(false), bounds.timeoutMs);
    const abandon = (): void => done(false);
    bounds.signal?.addEventListener('abort', abandon, { once: true });
    socket.once('secureConnect', () => {
      secured = true;
      socket.write(`HEAD / HTTP/1.1\r\nHost: ${url.host}\r\nConnection: close\r\n\r\n`);
    });
    socket.on('data', () => {
      answered = true;
      done(false);
    });
    // Closed (or reset) after our side of the handshake, before any answer: refused.
    socket.once('error', () => done(secured && !answered));
    socket.once('close', () => done(secured && !answered));
  });
}

/** The error a call failed with, or `HandshakeRejectedError` when the probe shows the bank refused the handshake. */
export async function explainReset(error: unknown, url: URL, identity: PemIdentity, bounds: ProbeBounds): Promise<unknown> {
  return (await handshakeRejected(url, identity, bounds)) ? new HandshakeRejectedError('TLS', error instanceof Error ? error : undefined) : error;
}
