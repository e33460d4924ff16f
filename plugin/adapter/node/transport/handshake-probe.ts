/**
 * Tells a bank that refuses our client certificate without a TLS alert from one that merely closed a
 * connection. Both look the same on the connection that carried the request: closed without a byte of answer
 * (Node's own TLS server refuses an untrusted certificate so, by closing right after the handshake). So does a
 * bank that read the request and then dropped the connection (the soak's token fault `close`), and that call
 * is an unknown outcome, not a certificate to rotate.
 *
 * The evidence is one fresh diagnostic connection with the same TLS context, asking `HEAD /`:
 * - the bank sends a TLS alert → refused, and the alert says how;
 * - the bank hangs up after it has our certificate (TLS 1.3: after our Finished; TLS 1.2: after our
 *   certificate flight, when the client derives its master secret) without a byte of answer → refused;
 * - any byte of answer, a close before our certificate was sent, no TCP connection, no verdict within
 *   `timeoutMs`, or the caller giving up (`signal`) → not a refusal: the first failure stays a closed connection
 *   (`bank_unreachable`). A bank that accepts TLS and never answers the `HEAD` holds the error `timeoutMs` at most.
 */
import { isIP } from 'node:net';
import { connect, type SecureContext } from 'node:tls';

export interface ProbeTarget {
  /** `https://host:port` of the failed call. */
  readonly origin: string;
  readonly secureContext: SecureContext;
  /** SNI and certificate name when it differs from the origin's host. */
  readonly servername?: string;
  /** The probe's budget (`probeBudgetMs`): a few seconds, not the bank's connect + headers timeouts. */
  readonly timeoutMs: number;
  /** The failed call's caller signal: once it aborts, nobody waits for a verdict. */
  readonly signal?: AbortSignal;
}

export type ProbeVerdict =
  | { readonly refused: true; /** The TLS alert the bank sent, when it sent one. */ readonly alert?: Error }
  | { readonly refused: false };

/** Opens one diagnostic connection to `target.origin` and reports whether the bank refuses our certificate. */
export function probeHandshake(target: ProbeTarget): Promise<ProbeVerdict> {
  if (target.signal?.aborted) return Promise.resolve({ refused: false });
  return new Promise((resolve) => {
    const url = new URL(target.origin);
    const host = url.hostname.replace(/^\[|\]$/g, '');
    const servername = target.servername ?? (isIP(host) ? undefined : host);
    const socket = connect({
      host,
      port: Number(url.port || 443),
      secureContext: target.secureContext,
      rejectUnauthorized: true,
      ALPNProtocols: ['http/1.1'],
      ...(servername ? { servername } : {}),
    });
    // Set once the bank has our certificate: TLS 1.2's CLIENT_RANDOM line is logged as the client derives
    // its master secret, in the flight that carries the certificate; TLS 1.3's client is done at secureConnect.
    let certificateSent = false;
    let settled = false;
    const done = (verdict: ProbeVerdict): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      target.signal?.removeEventListener('abort', abandon);
      socket.destroy();
      resolve(verdict);
    };
    const timer = setTimeout(() => done({ refused: false }), target.timeoutMs);
    const abandon = (): void => done({ refused: false });
    target.signal?.addEventListener('abort', abandon, { once: true });
    socket.on('keylog', (line: Buffer) => {
      if (line.subarray(0, 14).toString('latin1') === 'CLIENT_RANDOM ') certificateSent = true;
    });
    socket.once('secureConnect', () => {
      certificateSent = true;
      socket.write(`HEAD / HTTP/1.1\r\nhost: ${url.host}\r\nconnection: close\r\n\r\n`);
    });
    socket.once('data', () => done({ refused: false }));
    socket.on('error', (error: Error & { code?: string }) => {
      if (error.code?.startsWith('ERR_SSL_') && /_ALERT_/.test(error.code)) return done({ refused: true, alert: error });
      done({ refused: certificateSent && socket.bytesRead === 0 });
    });
    socket.once('end', () => done({ refused: certificateSent && socket.bytesRead === 0 }));
    socket.once('close', () => done({ refused: certificateSent && socket.bytesRead === 0 }));
  });
}
