import type { Connection } from './connection.js';

/** The consent states a connection is findable by: its pending consent's, and its settled consent's until that window closes. */
export function statesOf(connection: Connection | undefined): Array<{ state: string; expiresAt: number }> {
  return [connection?.pending, connection?.settledConsent].flatMap((consent) => (consent ? [{ state: consent.state, expiresAt: consent.expiresAt }] : []));
}

/** Whether `findByState(state)` answers this connection at `at` (the index is only a hint). */
export function carriesState(connection: Connection | undefined, state: string, at: number): connection is Connection {
  if (!connection) return false;
  if (connection.pending?.state === state) return true;
  return connection.settledConsent?.state === state && connection.settledConsent.expiresAt > at;
}
