/**
 * Which kind each intent created through this gateway process is: its `ConsentId` → the path of the collection it
 * was created in (`/domestic-standing-order-consents`), per bank. Connecting a `payments` consent then reads it as
 * that kind first, instead of asking the bank as each payment kind in turn (up to one refused read per kind). A miss
 * (created through another replica, or forgotten) costs only those reads: nothing else depends on it.
 */
import type { ResolvedBank } from '../../config/resolve-config.js';
import type { RouteManifest } from '../../manifest/types.js';

/** Enough for the intents created between two connections by a busy gateway; the oldest is forgotten first. */
const REMEMBERED_PER_BANK = 10_000;

const createdByBank = new WeakMap<ResolvedBank, Map<string, string>>();

/** Records the `Data.ConsentId` of a bank's 201 answer to a `POST …-consents` (any other answer is ignored). */
export function rememberCreatedIntent(bank: ResolvedBank, route: RouteManifest, status: number, body: Uint8Array): void {
  if (status !== 201 || route.method !== 'post' || !route.path.endsWith('-consents')) return;
  let consentId: unknown;
  try {
    consentId = (JSON.parse(new TextDecoder().decode(body)) as { Data?: { ConsentId?: unknown } } | null)?.Data?.ConsentId;
  } catch {
    return; // not JSON: the response validation says so, where it is on
  }
  if (typeof consentId !== 'string') return;
  let created = createdByBank.get(bank);
  if (!created) createdByBank.set(bank, (created = new Map()));
  created.delete(consentId);
  created.set(consentId, route.path);
  if (created.size > REMEMBERED_PER_BANK) created.delete(created.keys().next().value!);
}

/** The collection path `consentId` was created in through this process, if remembered. */
export function createdIntentCollection(bank: ResolvedBank, consentId: string): string | undefined {
  return createdByBank.get(bank)?.get(consentId);
}
