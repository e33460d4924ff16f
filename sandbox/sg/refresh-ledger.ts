/**
 * What became of every refresh token the SG-like bank issued (issue 15: the soak must prove which case each
 * lost connection was). Per token answer carrying a refresh token: which token it consumed, the one it issued
 * (both as short SHA-256 hashes, never the tokens), the grant family, when the grant succeeded, and whether the
 * answer was written out to the client (`finish`), dropped by a sandbox fault after rotating, or found the
 * client gone (`close` first: the gateway process died or gave up before the bank answered). Per refused
 * refresh: the token presented, and whether it was a double refresh (a rotated token presented again, which
 * revokes the grant family) or a token of a family an earlier double refresh revoked.
 * Served at `GET /__sandbox/refresh-ledger`; bounded so that a long soak cannot grow the sandbox's memory.
 */
import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';

/** How the token answer left the bank. */
export type AnswerFate = 'pending' | 'written' | 'dropped' | 'client_gone';

export interface Issuance {
  readonly grantType: 'authorization_code' | 'refresh_token';
  /** The refresh token consumed (refresh_token grants). */
  readonly usedHash?: string;
  readonly issuedHash: string;
  /** One per authorization (a consent): every rotation of it shares it. */
  readonly family: number;
  /** Epoch ms: the grant succeeded (the token was rotated). */
  readonly at: number;
  fate: AnswerFate;
  /** Epoch ms: the answer was written out, dropped, or the client was found gone. */
  fateAt?: number;
}

export interface Refusal {
  readonly presentedHash: string;
  readonly at: number;
  /** `double_refresh`: a rotated token presented again; `family_revoked`: its family was revoked by an earlier double refresh. */
  readonly kind: 'double_refresh' | 'family_revoked' | 'other';
  readonly family?: number;
  /** The OAuth error answered. */
  readonly error: string;
}

export interface LedgerSnapshot {
  readonly issuances: Issuance[];
  readonly refusals: Refusal[];
  /** Family → epoch ms of the double refresh that revoked it. */
  readonly revokedFamilies: Record<string, number>;
}

const MAX_RECORDS = 200_000;

/** A short SHA-256 of a token (base64url, 22 characters): enough to tell tokens apart, useless to use them. */
export const tokenHash = (token: string) => createHash('sha256').update(token).digest('base64url').slice(0, 22);

export class RefreshLedger {
  #issuances: Issuance[] = [];
  #refusals: Refusal[] = [];
  #byIssued = new Map<string, Issuance>();
  #consumed = new Set<string>();
  #revoked = new Map<number, number>();
  #families = 0;

  /** Records a token answer carrying `issued` (after the grant succeeded); its fate is set by `settle`. */
  issued(grantType: Issuance['grantType'], used: string | undefined, issued: string, at = Date.now()): Issuance {
    const usedHash = used === undefined ? undefined : tokenHash(used);
    const parent = usedHash === undefined ? undefined : this.#byIssued.get(usedHash);
    const record: Issuance = { grantType, ...(usedHash ? { usedHash } : {}), issuedHash: tokenHash(issued), family: parent?.family ?? ++this.#families, at, fate: 'pending' };
    if (usedHash) this.#consumed.add(usedHash);
    this.#issuances.push(record);
    this.#byIssued.set(record.issuedHash, record);
    if (this.#issuances.length > MAX_RECORDS) this.#byIssued.delete(this.#issuances.shift()!.issuedHash);
    return record;
  }

  /** Records a refused refresh; returns whether it was a double refresh. */
  refused(presented: string, error: string, at = Date.now()): Refusal {
    const presentedHash = tokenHash(presented);
    const family = this.#byIssued.get(presentedHash)?.family;
    const kind = this.#consumed.has(presentedHash) ? 'double_refresh' : family !== undefined && this.#revoked.has(family) ? 'family_revoked' : 'other';
    if (kind === 'double_refresh' && family !== undefined && !this.#revoked.has(family)) this.#revoked.set(family, at);
    const refusal: Refusal = { presentedHash, at, kind, ...(family !== undefined ? { family } : {}), error };
    this.#refusals.push(refusal);
    if (this.#refusals.length > MAX_RECORDS) this.#refusals.shift();
    return refusal;
  }

  snapshot(): LedgerSnapshot {
    return structuredClone({ issuances: this.#issuances, refusals: this.#refusals, revokedFamilies: Object.fromEntries(this.#revoked) });
  }

  reset(): void {
    // Issuances stay known (a token issued before a reset can still be refused after it); only the lists restart.
    this.#issuances = [];
    this.#refusals = [];
  }
}

/**
 * Watches one token-endpoint response: `finish` (written out to the client's socket) or `close` before it
 * (`dropped` when a sandbox fault destroyed the socket, else the client was gone). Call before the grant runs.
 */
export function watchAnswer(res: ServerResponse, droppedByFault: () => boolean): { attach(record: Issuance): void } {
  let fate: AnswerFate = 'pending';
  let fateAt: number | undefined;
  let record: Issuance | undefined;
  const apply = () => {
    if (record && fate !== 'pending') Object.assign(record, { fate, fateAt });
  };
  res.once('finish', () => {
    if (fate !== 'pending') return;
    fate = 'written';
    fateAt = Date.now();
    apply();
  });
  res.once('close', () => {
    if (fate !== 'pending') return;
    fate = droppedByFault() ? 'dropped' : 'client_gone';
    fateAt = Date.now();
    apply();
  });
  return {
    attach(issuance) {
      record = issuance;
      apply();
    },
  };
}

/** `GET /__sandbox/refresh-ledger` (a control-server extension). */
export function refreshLedgerRoute(ledger: RefreshLedger) {
  return {
    prefix: '/__sandbox/refresh-ledger',
    routes: ['GET /__sandbox/refresh-ledger'],
    handle(req: IncomingMessage, res: ServerResponse): void {
      const body = JSON.stringify(req.method === 'GET' ? ledger.snapshot() : { error: 'GET only' });
      res.writeHead(req.method === 'GET' ? 200 : 405, { 'content-type': 'application/json' });
      res.end(body);
    },
  };
}
