import { ConfigError, type ResolvedApi, type ResolvedBank } from '../config/resolve-config.js';
import type { HttpMethod, RouteManifest } from '../manifest/types.js';

/** One segment of a path template: a literal, or a whole-segment parameter (restricted to `enum` when it has one). */
export type RouteSegment = string | { readonly param: string; readonly enum?: readonly string[] };

/** A declared operation, mounted at `/{bank}/{api}{path}`. */
export interface MountedRoute {
  readonly bank: ResolvedBank;
  readonly api: ResolvedApi;
  readonly route: RouteManifest;
  readonly method: string;
  /** Segments of the spec path: a string for a literal, `{ param }` for a whole-segment parameter. */
  readonly segments: readonly RouteSegment[];
  readonly gatewayPath: string;
}

export interface RouteMatch {
  readonly mounted: MountedRoute;
  /** Path parameter values, percent-decoded. */
  readonly params: Readonly<Record<string, string>>;
}

/** Two operations of one API that can match the same concrete path with the same method, neither more specific. */
export interface RouteCollision {
  readonly method: HttpMethod;
  readonly a: RouteManifest;
  readonly b: RouteManifest;
  /** A concrete path both match, e.g. `/v1/payments/x`. */
  readonly example: string;
}

/**
 * Every declared operation, precompiled: routes are grouped by `bank/api` and sorted so that the more specific
 * template wins where two overlap: a literal before an enum parameter before a free parameter
 * (`/payments/status` before `/payments/{id}`), so the order never depends on the spec's. Enum path parameters
 * only match their values, which is what keeps Berlin Group's `/v1/{payment-service}/…` apart from
 * `/v1/accounts/…`. Overlaps that specificity cannot decide are refused here, at mount (a `ConfigError` naming
 * both operations). No regex per request.
 */
export class RouteTable {
  readonly #byApi = new Map<string, MountedRoute[]>();
  readonly routes: readonly MountedRoute[];

  constructor(banks: ReadonlyMap<string, ResolvedBank>) {
    const all: MountedRoute[] = [];
    const problems: string[] = [];
    for (const bank of banks.values()) {
      for (const api of bank.apis.values()) {
        for (const collision of findRouteCollisions(api.manifest.routes)) {
          problems.push(`banks.${bank.name}.apis.${api.name}: ${describeCollision(collision)}`);
        }
        const list: MountedRoute[] = api.manifest.routes.map((route) => ({
          bank,
          api,
          route,
          method: route.method.toUpperCase(),
          segments: segmentsOf(route),
          gatewayPath: `/${bank.name}/${api.name}${route.path}`,
        }));
        list.sort((a, b) => bySpecificity(a.segments, b.segments));
        this.#byApi.set(`${bank.name}/${api.name}`, list);
        all.push(...list);
      }
    }
    if (problems.length > 0) throw new ConfigError(problems);
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
      if (!allowed.includes(mounted.method)) allowed.push(mounted.method);
    }
    return allowed.length > 0 ? { allowed } : undefined;
  }
}

/** The segments of a route's path template, with the enum of each path parameter that declares one. */
export function segmentsOf(route: RouteManifest): RouteSegment[] {
  const enums = new Map(route.params.path.filter((p) => p.enum && p.enum.length > 0).map((p) => [p.name, p.enum!]));
  return route.path
    .split('/')
    .filter((s) => s.length > 0)
    .map((s) => {
      if (!/^\{[^{}]+\}$/.test(s)) return s;
      const param = s.slice(1, -1);
      const values = enums.get(param);
      return values ? { param, enum: values } : { param };
    });
}

/**
 * Pairs of routes (same method) that can match one concrete path where neither template is at least as specific
 * as the other at every segment, so no order can pick one: e.g. `/a/{x}` and `/{y}/b` (both match `/a/b`), or
 * `/a/{x}` twice. `/payments/status` vs `/payments/{id}` is no collision: the literal is more specific.
 */
export function findRouteCollisions(routes: readonly RouteManifest[]): RouteCollision[] {
  const compiled = routes.map((route) => ({ route, segments: segmentsOf(route) }));
  const collisions: RouteCollision[] = [];
  for (let i = 0; i < compiled.length; i++) {
    for (let j = i + 1; j < compiled.length; j++) {
      const a = compiled[i]!;
      const b = compiled[j]!;
      if (a.route.method !== b.route.method || a.segments.length !== b.segments.length) continue;
      const example: string[] = [];
      let overlaps = true;
      for (let k = 0; k < a.segments.length && overlaps; k++) {
        const shared = sharedValue(a.segments[k]!, b.segments[k]!);
        if (shared === undefined) overlaps = false;
        else example.push(shared);
      }
      if (!overlaps) continue;
      const aWithinB = a.segments.every((segment, k) => within(segment, b.segments[k]!));
      const bWithinA = b.segments.every((segment, k) => within(segment, a.segments[k]!));
      // Exactly one inside the other: the narrower one wins by the specificity order. Both (same sets) or neither: ambiguous.
      if (aWithinB !== bWithinA) continue;
      collisions.push({ method: a.route.method, a: a.route, b: b.route, example: `/${example.join('/')}` });
    }
  }
  return collisions;
}

/** One line: `GET /a/{x} (getA) and GET /{y}/b (getB) both match /a/b; …`. */
export function describeCollision({ method, a, b, example }: RouteCollision): string {
  const m = method.toUpperCase();
  return `routes collide: ${m} ${a.path} (${a.operationId}) and ${m} ${b.path} (${b.operationId}) both match ${example} and neither is more specific; rename a path or restrict a parameter with an enum (an overlay can)`;
}

/** How many values a segment matches: 1 for a literal, the enum's size, or infinity. */
function width(segment: RouteSegment): number {
  if (typeof segment === 'string') return 1;
  return segment.enum ? segment.enum.length : Number.POSITIVE_INFINITY;
}

/** A value both segments match, or undefined when they are disjoint. */
function sharedValue(a: RouteSegment, b: RouteSegment): string | undefined {
  const values = (segment: RouteSegment): readonly string[] | undefined => (typeof segment === 'string' ? [segment] : segment.enum);
  const [va, vb] = [values(a), values(b)];
  if (va && vb) return va.find((value) => vb.includes(value));
  if (va) return va[0];
  if (vb) return vb[0];
  return `{${(a as { param: string }).param}}`;
}

/** Every value `a` matches, `b` matches too. */
function within(a: RouteSegment, b: RouteSegment): boolean {
  if (typeof b !== 'string' && !b.enum) return true;
  const bValues = typeof b === 'string' ? [b] : b.enum!;
  if (typeof a === 'string') return bValues.includes(a);
  return a.enum !== undefined && a.enum.every((value) => bValues.includes(value));
}

function matchSegments(template: readonly RouteSegment[], actual: readonly string[]): Record<string, string> | undefined {
  if (template.length !== actual.length) return undefined;
  const params: Record<string, string> = {};
  for (let i = 0; i < template.length; i++) {
    const part = template[i]!;
    const value = actual[i]!;
    if (typeof part === 'string') {
      if (part !== value) return undefined;
    } else {
      if (part.enum && !part.enum.includes(value)) return undefined;
      params[part.param] = value;
    }
  }
  return params;
}

/**
 * Narrower segments first, position by position; then shorter paths. When one template is within another at every
 * segment, its widths are never larger and one is smaller, so it sorts first: the specific route is tried first.
 */
function bySpecificity(a: readonly RouteSegment[], b: readonly RouteSegment[]): number {
  const length = Math.min(a.length, b.length);
  for (let i = 0; i < length; i++) {
    const difference = width(a[i]!) - width(b[i]!);
    if (difference !== 0 && !Number.isNaN(difference)) return difference < 0 ? -1 : 1;
  }
  return a.length - b.length;
}

export type { HttpMethod };
