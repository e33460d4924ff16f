import type { TokenKind } from '../manifest/types.js';
import type { MountedRoute } from './route-table.js';

/**
 * How one operation authenticates at the bank, worked out once per route from its manifest and the bank's config:
 * which OAuth token (if any), or a static `Authorization` (a configured bearer or Basic credential), and the API keys
 * the spec's security requirement needs, by header, query parameter or cookie. Only these operations carry them.
 */
export interface CredentialPlan {
  /** The OAuth token to fetch; `none` when a static `authorization` (or nothing) is sent instead. */
  readonly token: TokenKind;
  readonly scopes: readonly string[];
  /** `Bearer …` or `Basic …` from `banks.<bank>.credentials`, sent as `Authorization`. */
  readonly authorization?: string;
  /** Lower-case header name → API key. */
  readonly headers: Readonly<Record<string, string>>;
  /** Query parameters the gateway adds, `[name, key]`; a caller's value for these names is dropped. */
  readonly query: readonly (readonly [string, string])[];
  /** `Cookie` header value (`name=key; …`), when the spec puts a key in a cookie. */
  readonly cookie?: string;
}

const plans = new WeakMap<MountedRoute, CredentialPlan>();

/** The route's plan (cached per mounted route: computed on its first call, never per request). */
export function credentialPlanOf(mounted: MountedRoute): CredentialPlan {
  let plan = plans.get(mounted);
  if (!plan) {
    plan = buildPlan(mounted);
    plans.set(mounted, plan);
  }
  return plan;
}

function buildPlan({ bank, api, route }: MountedRoute): CredentialPlan {
  const headers: Record<string, string> = {};
  const query: [string, string][] = [];
  const cookies: string[] = [];
  let authorization: string | undefined;
  for (const needed of route.credentials ?? []) {
    // resolve-config refused to start without these, so a missing one is a bug, not a caller's problem.
    const credential = bank.credentials.get(needed.scheme);
    if (credential === undefined) throw new Error(`banks.${bank.name}.credentials.${needed.scheme} missing after config validation`);
    if (needed.type === 'basic') {
      if (credential.kind === 'authorization') authorization = credential.value;
    } else if (credential.kind === 'apiKey') {
      if (needed.in === 'header') headers[needed.name.toLowerCase()] = credential.value;
      else if (needed.in === 'query') query.push([needed.name, credential.value]);
      else cookies.push(`${needed.name}=${credential.value}`);
    }
  }
  let token: TokenKind = route.tokenKind;
  let scopes: readonly string[] = route.scopes;
  // A static credential configured under the token scheme's own name replaces the OAuth token (a personal token).
  const statics = route.securityScheme !== undefined ? bank.credentials.get(route.securityScheme) : undefined;
  if (statics?.kind === 'authorization') {
    authorization = statics.value;
    token = 'none';
    scopes = [];
  }
  if (route.authorizationUndeclared && api.authorization) {
    const choice = api.authorization;
    if ('credential' in choice) {
      const credential = bank.credentials.get(choice.credential);
      if (credential?.kind === 'authorization') authorization = credential.value;
    } else {
      token = choice.token;
      scopes = choice.scopes;
    }
  }
  return { token, scopes, ...(authorization ? { authorization } : {}), headers, query, ...(cookies.length > 0 ? { cookie: cookies.join('; ') } : {}) };
}

/** True when `name` is a query parameter the gateway fills from config for this route (a caller's value is dropped). */
export function isCredentialQuery(plan: CredentialPlan, name: string): boolean {
  return plan.query.some(([owned]) => owned === name);
}
