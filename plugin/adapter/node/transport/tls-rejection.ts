/**
 * Makes a bank's rejection of our client certificate surface as what it is.
 *
 * With TLS 1.3 the client's handshake is over when it sends its Finished; the server checks the client
 * certificate after that and answers with an alert (`certificate required`, `unknown ca`, …) or simply closes.
 * By then undici has the socket and writes the request: undici records the alert, then replaces it with its
 * own `UND_ERR_SOCKET: other side closed` when the connection ends (or a write gets `ECONNRESET`), which reads
 * like a flaky network. This wrapper watches each fresh connection until the server proves it accepted the handshake (a
 * session ticket, or any byte of response); if the server ends the connection before that, the socket is
 * destroyed with the TLS alert error, or with `HandshakeRejectedError` when no alert came. Undici then fails
 * the request with that error. Our `end` listener is attached before undici's, so it runs first.
 * A close without an alert is only a suspicion (a bank that read the request and hung up looks the same):
 * node-transport.ts confirms it with handshake-probe.ts before it reports a refused certificate.
 */
import type { TLSSocket } from 'node:tls';
import type { buildConnector } from 'undici';
import { HandshakeRejectedError } from '../../../transport/transport-errors.js';

export function surfaceTlsRejection(connect: buildConnector.connector): buildConnector.connector {
  return function connectWatchingHandshake(options, callback) {
    connect(options, (...args) => {
      const [error, socket] = args;
      if (error === null && 'encrypted' in socket) watchUntilAccepted(socket as TLSSocket);
      callback(...args);
    });
  };
}

const RESETS = new Set(['ECONNRESET', 'EPIPE', 'ECONNABORTED']);

function watchUntilAccepted(socket: TLSSocket): void {
  let alert: Error | undefined;
  const stopWatching = (): void => {
    socket.off('error', onError);
    socket.off('session', stopWatching);
    socket.off('end', rejectIfSilent);
    socket.off('close', stopWatching);
  };
  function rejectIfSilent(): void {
    stopWatching();
    // `bytesRead` of a TLSSocket counts decrypted application bytes: 0 means the bank never answered.
    if (socket.bytesRead > 0 || socket.destroyed) return;
    socket.destroy(alert ?? new HandshakeRejectedError(socket.getProtocol()));
  }
  function onError(error: Error & { code?: string }): void {
    if (socket.bytesRead > 0) return stopWatching();
    if (error.code?.startsWith('ERR_SSL_')) {
      alert ??= error;
      // Post-handshake alerts are emitted without destroying the socket; the end or reset that follows
      // would replace the alert in undici. Fail the socket with the alert now.
      return rejectIfSilent();
    }
    // A reset of a connection the bank never answered (typically: we were still writing the request when it
    // dropped us). The socket dies with this error and undici reports it; the cause tells the classifier why.
    if (RESETS.has(error.code ?? '') && error.cause === undefined) {
      Object.defineProperty(error, 'cause', {
        value: alert ?? new HandshakeRejectedError(socket.getProtocol()),
        configurable: true,
        writable: true,
      });
    }
    stopWatching();
  }
  // A TLS 1.3 session ticket is sent only after the server verified our Finished (and certificate).
  socket.once('session', stopWatching);
  socket.on('error', onError);
  socket.once('end', rejectIfSilent);
  socket.once('close', stopWatching);
}
