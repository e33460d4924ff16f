import type { Connection, TokenSet } from './connection.js';

interface JournalEntryBase {
  /** `storageIdOf(connection)`. */
  readonly storageId: string;
  /** What the bank answered. */
  readonly tokens: TokenSet;
  /** Epoch milliseconds. */
  readonly journaledAt: number;
  /** The refresh lock the refresh held: released once the entry is in the store (not before, so no replica refreshes the dead token). */
  readonly lock?: { readonly name: string; readonly owner: string };
}

/**
 * A token set a refresh got (with a rotating bank, the refresh token it used is dead) that the store has not
 * taken yet: kept on this replica until it is written into the store (issue 15, finding 1).
 */
export interface RefreshJournalEntry extends JournalEntryBase {
  /** The refresh token the refresh presented: the entry only lands where it is still the stored one. */
  readonly usedRefreshToken: string;
  readonly completes?: undefined;
}

/**
 * A consent the bank just authorised (its authorization code exchanged, which works once) that the store could not
 * take: without it the PSU would have to consent again because a store was away.
 */
export interface ConsentJournalEntry extends JournalEntryBase {
  readonly usedRefreshToken?: undefined;
  readonly completes: {
    /** The step claim the completing delivery held: the entry only lands where the connection still holds it. */
    readonly claimId: string;
    /** The connection as the completion writes it (active, its tokens, consent and scopes); `revision` is the store's. */
    readonly connection: Connection;
  };
}

export type JournalEntry = RefreshJournalEntry | ConsentJournalEntry;

/**
 * Local durable storage for token sets the store could not take: the refresh counts as done only once
 * `write` resolved (fsync'd, sealed like the store). Optional: a runtime without local durable storage
 * (Workers, Deno Deploy) has none, and a refresh whose result the store cannot take there fails as before
 * (`token.persist_failed`). The Node adapter keeps one sealed file per connection (`file-journal.ts`).
 */
export interface TokenJournal {
  /** Stores `entry` durably (replacing an older one for the same connection); resolves once it survives a crash. */
  write(entry: JournalEntry): Promise<void>;
  /** Every entry held (read once, when the store opens: a replica killed before its replay replays at restart). */
  entries(): Promise<JournalEntry[]>;
  /** Forgets the entry of `storageId` written at `journaledAt` (a newer entry for the same connection is kept). */
  remove(storageId: string, journaledAt: number): Promise<void>;
}
