/**
 * Fault injection: tests and benchmarks tell a sandbox bank to misbehave the way real banks do.
 *
 *   POST   /__sandbox/faults   [{ bank, target, action, … }, …]   adds rules (each applies `times` times, default 1)
 *   GET    /__sandbox/faults                                      the rules still armed
 *   DELETE /__sandbox/faults                                      disarms every rule
 *
 * The authorization servers consume `target: 'token'` rules, the resource servers `target: 'resource'` rules,
 * each at the point where the fault really happens (a dropped token response is dropped *after* the token
 * was rotated).
 */
import { BANK_NAMES, type BankName } from './stats.js';

export type FaultAction =
  /** Answer after `delayMs`. */
  | 'delay'
  /** Do the work (e.g. rotate the refresh token), then destroy the socket without answering. */
  | 'drop-response'
  /** Answer `status` (default 503) without doing the work. */
  | 'status'
  /** Destroy the socket before doing anything. */
  | 'close'
  /** Answer normally, gzip-compressed with `content-encoding: gzip`. */
  | 'gzip'
  /**
   * Token rules: after `delayMs` (default 0), refuse with `invalid_grant` without looking at the grant (a bank
   * that refuses a refresh token without revoking the grant; the token presented is left as it is).
   */
  | 'invalid-grant'
  /**
   * Token rules: headers at once, then the body a byte every `delayMs` (default 200), never finished: a bank that is
   * never silent long enough for an idle timeout (only an overall deadline ends the call).
   */
  | 'trickle';

export interface FaultRule {
  readonly bank: BankName;
  readonly target: 'token' | 'resource';
  readonly action: FaultAction;
  /** Token rules: only this grant type (`refresh_token`, `client_credentials`, …). */
  readonly grantType?: string;
  /**
   * Resource rules: only paths starting with this (the bank's own path, e.g. `/ais/v7/identified2/accounts`).
   * Token rules: another path of the authorization server instead of its token endpoint (e.g. its JWKS).
   */
  readonly pathPrefix?: string;
  /** Resource rules: only this method. */
  readonly method?: string;
  readonly delayMs?: number;
  readonly status?: number;
  /** How many matching requests the rule applies to; `-1` for every one until disarmed. Default 1. */
  readonly times?: number;
}

interface ArmedRule extends FaultRule {
  remaining: number;
}

const ACTIONS = new Set<FaultAction>(['delay', 'drop-response', 'status', 'close', 'gzip', 'invalid-grant', 'trickle']);

export class FaultRegistry {
  #rules: ArmedRule[] = [];

  /** Validates and arms rules; the error names the rule and field. */
  add(input: unknown): void {
    const list = Array.isArray(input) ? input : [input];
    const armed = list.map((raw, index): ArmedRule => {
      const rule = raw as Partial<FaultRule>;
      const at = `rule ${index}`;
      if (!BANK_NAMES.includes(rule.bank as BankName)) throw new Error(`${at}: bank must be one of ${BANK_NAMES.join(', ')}`);
      if (rule.target !== 'token' && rule.target !== 'resource') throw new Error(`${at}: target must be token or resource`);
      if (!rule.action || !ACTIONS.has(rule.action)) throw new Error(`${at}: action must be one of ${[...ACTIONS].join(', ')}`);
      if (rule.delayMs !== undefined && !(Number.isInteger(rule.delayMs) && rule.delayMs >= 0 && rule.delayMs <= 120_000)) throw new Error(`${at}: delayMs must be 0–120000`);
      if (rule.status !== undefined && !(Number.isInteger(rule.status) && rule.status >= 100 && rule.status <= 599)) throw new Error(`${at}: status must be an HTTP status`);
      const times = rule.times ?? 1;
      if (!Number.isInteger(times) || times === 0 || times < -1) throw new Error(`${at}: times must be a positive integer or -1`);
      return { ...(rule as FaultRule), remaining: times };
    });
    this.#rules.push(...armed);
  }

  /** The first armed rule matching this request, consumed once. */
  take(bank: BankName, target: 'token' | 'resource', request: { grantType?: string; path?: string; method?: string; /** Token rules: false at another path of the server, which only rules with a `pathPrefix` match. */ atTokenEndpoint?: boolean }): FaultRule | undefined {
    const index = this.#rules.findIndex(
      (rule) =>
        rule.bank === bank &&
        rule.target === target &&
        (rule.grantType === undefined || rule.grantType === request.grantType) &&
        (rule.pathPrefix === undefined ? request.atTokenEndpoint !== false : (request.path ?? '').startsWith(rule.pathPrefix)) &&
        (rule.method === undefined || rule.method.toUpperCase() === request.method?.toUpperCase()),
    );
    if (index === -1) return undefined;
    const rule = this.#rules[index]!;
    if (rule.remaining > 0 && --rule.remaining === 0) this.#rules.splice(index, 1);
    return rule;
  }

  list(): readonly FaultRule[] {
    return this.#rules.map(({ remaining, ...rule }) => ({ ...rule, times: remaining }));
  }

  clear(): void {
    this.#rules = [];
  }
}
