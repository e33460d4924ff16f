import type { ResolvedApi, ResolvedBank } from '../config/resolve-config.js';
import type { HttpMethod, RouteManifest } from '../manifest/types.js';

/** A declared operation, mounted at `/{bank}/{api}{path}`. */
export interface MountedRoute {
  readonly bank: ResolvedBank;
  readonly api: ResolvedApi;
  readonly route: RouteManifest;
  readonly method: string;
  /** Segments of the spec path: a string for a literal, `{ param }` for a whole-segment parameter. */
  readonly segments: readonly (string | { readonly param: string })[];
  readonly gatewayPath: string;
}

export interface RouteMatch {
  readonly mounted: MountedRoute;
  /** Path parameter values, percent-decoded. */
  readonly params: Readonly<Record<string, string>>;
}

/**
 * Every declared operation, precompiled: routes are grouped by `bank/api` and sorted so that literal
 * segments win over parameters (`/payments/status` before `/payments/{id}`). No regex per request.
 */
export class RouteTable {
  readonly #byApi = new Map<string, MountedRoute[]>();
  readonly routes: readonly MountedRoute[];

  constructor(banks: ReadonlyMap<string, ResolvedBank>) {
    const all: MountedRoute[] = [];
    for (const bank of banks.values()) {
      for (const api of bank.apis.values()) {
        const list: MountedRoute[] = [];
        for (const route of api.manifest.routes) {
          const segments = route.path.split('/').filter((s) => s.length > 0).map((s) => (/^\{[^{}]+\}$/.test(s) ? { param: s.slice(1, -1) } : s));
          list.push({ bank, api, route, method: route.method.toUpperCase(), segments, gatewayPath: `/${bank.name}/${api.name}${route.path}` });
        }
        list.sort(bySpecificity);
        this.#byApi.set(`${bank.name}/${api.name}`, list);
        all.push(...list);
      }
    }
    this.routes = all;
  }

  /**
   * Matches decoded path segments (`['seb','ais','accounts','123']`). Returns the route for this method,
   * or the methods the path allows (for a 405), or nothing.
   */
  match(method: string, segments: readonly string[]): RouteMatch | { allowed: string[] } | undefined {
    if (segments.length < 2) return undefined;
    const candidates = this.#byApi.get(`${segments[0]}/${segments[1]}`);
    if (!candidates) return undefined;
    const rest = segments.slice(2);
    const allowed: string[] = [];
    for (const mounted of candidates) {
      const params = matchSegments(mounted.segments, rest);
      if (!params) continue;
      if (mounted.method === method) return { mounted, params };
      allowed.push(mounted.method);
    }
    return allowed.length > 0 ? { allowed } : undefined;
  }
}

function matchSegments(template: MountedRoute['segments'], actual: readonly string[]): Record<string, string> | undefined {
  if (template.length !== actual.length) return undefined;
  const params: Record<string, string> = {};
  for (let i = 0; i < template.length; i++) {
    const part = template[i]!;
    if (typeof part === 'string') {
      if (part !== actual[i]) return undefined;
    } else {
      params[part.param] = actual[i]!;
    }
  }
  return params;
}

function bySpecificity(a: MountedRoute, b: MountedRoute): number {
  const length = Math.min(a.segments.length, b.segments.length);
  for (let i = 0; i < length; i++) {
    const aLiteral = typeof a.segments[i] === 'string';
    const bLiteral = typeof b.segments[i] === 'string';
    if (aLiteral !== bLiteral) return aLiteral ? -1 : 1;
  }
  return a.segments.length - b.segments.length;
}

export type { HttpMethod };
