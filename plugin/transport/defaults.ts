/** Transport defaults shared by every runtime's transport (the config schema applies the same ones). */
export const DEFAULT_TIMEOUTS = { connectMs: 10_000, headersMs: 30_000, bodyMs: 30_000, totalMs: 60_000 } as const;
export const DEFAULT_MAX_RESPONSE_BYTES = 10 * 1024 * 1024;
export const DEFAULT_KEEP_ALIVE_MS = 10_000;

/** Longest a diagnostic handshake (a closed connection: refused certificate or dropped call?) may hold an error back. */
export const PROBE_BUDGET_MS = 3_000;

/** The probe's budget for a bank: never longer than its connect timeout, nor than `PROBE_BUDGET_MS`. */
export function probeBudgetMs(connectMs: number): number {
  return Math.min(connectMs, PROBE_BUDGET_MS);
}
