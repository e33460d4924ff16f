/**
 * The unattended-access budget (PSD2 RTS art. 36(5)(b)): a consent allows `frequencyPerDay` reads of each endpoint
 * and account per rolling 24 h made without the PSU present (the caller says the PSU is present by sending
 * `PSU-IP-Address`). The gateway counts them itself, before the bank does, so that the read beyond the budget is a
 * 429 `unattended_budget_exhausted` with `Retry-After` and never reaches the bank (where it would count against the
 * TPP, and a real bank may answer it with a penalty). The counts live in the store (`hitWindow` / `peekWindow`,
 * ConnectionStore v2), so replicas share them.
 */
import { BankgateError } from '../errors/bankgate-error.js';
import type { Connection } from '../store/connection.js';

export const DAY_MS = 86_400_000;

/** Rolling-window counters (ConnectionStore v2, contracts §3): atomic check-and-count; a refused hit is not counted. */
export interface RollingWindows {
  hitWindow(key: string, options: { readonly windowMs: number; readonly limit: number; readonly now: number }): Promise<{ allowed: boolean; count: number; retryAfterMs?: number }>;
  peekWindow(key: string, options: { readonly windowMs: number; readonly now: number }): Promise<{ count: number; resetAt?: number }>;
}

/** One counted read: the endpoint (the operation) and the account it reads (`-` for the account list). */
export interface UnattendedRead {
  readonly endpoint: string;
  readonly account: string;
}

/** The read's account: the first path parameter naming an account (`account-id`, `accountResourceId`, …). */
export function unattendedReadOf(operationId: string, params: Readonly<Record<string, string>>): UnattendedRead {
  const name = Object.keys(params).find((param) => /account/i.test(param));
  return { endpoint: operationId, account: name ? params[name]! : '-' };
}

/** The counter's key: per connection (its owner and id), endpoint and account. */
export function budgetKey(connection: Pick<Connection, 'owner' | 'id'>, read: UnattendedRead): string {
  return `budget:${connection.owner}/${connection.id}:${read.endpoint}:${read.account}`;
}

/** What `GET /connections/{id}` shows of the budget. */
export interface BudgetView {
  readonly frequencyPerDay: number;
  /** Per endpoint and account read unattended in the last 24 h: what is left, and when the oldest read leaves the window. */
  readonly reads: readonly { readonly endpoint: string; readonly account: string; readonly remaining: number; readonly resetAt?: string }[];
}

/**
 * Counts one unattended read, or throws 429 `unattended_budget_exhausted` with `retryAfterSeconds` (sent as
 * `Retry-After`). Returns the count after this read.
 */
export async function spendUnattended(windows: RollingWindows, connection: Connection, frequencyPerDay: number, read: UnattendedRead, now: number): Promise<number> {
  const hit = await windows.hitWindow(budgetKey(connection, read), { windowMs: DAY_MS, limit: frequencyPerDay, now });
  if (hit.allowed) return hit.count;
  const retryAfterSeconds = Math.max(1, Math.ceil((hit.retryAfterMs ?? DAY_MS) / 1000));
  throw new BankgateError('unattended_budget_exhausted', {
    status: 429,
    bank: connection.bank,
    detail: `connection ${connection.id}: the consent allows ${frequencyPerDay} reads a day of ${read.endpoint} for this account without the PSU present, all spent; retry in ${retryAfterSeconds} s, or send PSU-IP-Address when the PSU is asking`,
    extra: { retryAfterSeconds, frequencyPerDay, endpoint: read.endpoint },
  });
}

/** The budget of the reads recorded on the connection (`Connection.unattended.reads`). */
export async function budgetView(windows: RollingWindows, connection: Connection, frequencyPerDay: number, now: number): Promise<BudgetView> {
  const reads = await Promise.all(
    (connection.unattended?.reads ?? []).map(async (entry) => {
      const [endpoint = '', account = '-'] = entry.split(' ', 2);
      const peek = await windows.peekWindow(budgetKey(connection, { endpoint, account }), { windowMs: DAY_MS, now });
      return { endpoint, account, remaining: Math.max(0, frequencyPerDay - peek.count), ...(peek.resetAt !== undefined ? { resetAt: new Date(peek.resetAt).toISOString() } : {}) };
    }),
  );
  return { frequencyPerDay, reads: reads.filter((read) => read.remaining < frequencyPerDay) };
}
