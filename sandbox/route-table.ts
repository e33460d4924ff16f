/**
 * Matches a request against the operations a bank's specs declare, using the generated route manifests: the
 * sandbox serves exactly what the specs say, under the spec's server path, and nothing else.
 */
import type { ApiManifest, ParamManifest, RouteManifest } from '../plugin/manifest/types.js';

export interface ResourceApi {
  /** API name as in sandbox.json `apis` (`ais`, `aisp`, …). */
  readonly name: string;
  /** Path of the spec's first server URL: `/ais/v7/identified2`. */
  readonly basePath: string;
  readonly manifest: ApiManifest;
}

export interface RouteMatch {
  readonly api: ResourceApi;
  readonly route: RouteManifest;
  /** Path parameters by their spec name, decoded. */
  readonly params: Readonly<Record<string, string>>;
}

interface CompiledRoute {
  readonly api: ResourceApi;
  readonly route: RouteManifest;
  readonly pattern: RegExp;
  readonly names: readonly string[];
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function compile(api: ResourceApi, route: RouteManifest): CompiledRoute {
  const names: string[] = [];
  const source = route.path
    .split(/(\{[^}]+\})/)
    .map((part) => {
      const param = /^\{([^}]+)\}$/.exec(part);
      if (!param) return escapeRegExp(part);
      names.push(param[1]!);
      return '([^/]+)';
    })
    .join('');
  return { api, route, names, pattern: new RegExp(`^${escapeRegExp(api.basePath)}${source}/?$`) };
}

function enumAllows(param: ParamManifest | undefined, value: string): boolean {
  return !param?.enum || param.enum.includes(value);
}

/** The server path of a manifest (its first server URL's path, without a trailing slash). */
export function serverBasePath(manifest: ApiManifest): string {
  const first = manifest.servers[0];
  if (!first) throw new Error(`${manifest.bank}/${manifest.api}: the spec declares no server URL, so the sandbox cannot place it`);
  return new URL(first).pathname.replace(/\/+$/, '');
}

export function createRouteTable(apis: readonly ResourceApi[]) {
  const compiled = apis.flatMap((api) => api.manifest.routes.map((route) => compile(api, route)));
  return {
    /** The operation for a method and path, or undefined (then the bank answers 404). Enum path params must match. */
    match(method: string, pathname: string): RouteMatch | undefined {
      const lower = method.toLowerCase();
      for (const candidate of compiled) {
        if (candidate.route.method !== lower) continue;
        const found = candidate.pattern.exec(pathname);
        if (!found) continue;
        const params: Record<string, string> = {};
        let allowed = true;
        candidate.names.forEach((name, index) => {
          let value: string;
          try {
            value = decodeURIComponent(found[index + 1]!);
          } catch {
            allowed = false; // malformed percent-encoding: not a path this API serves
            return;
          }
          params[name] = value;
          allowed &&= enumAllows(candidate.route.params.path.find((p) => p.name === name), value);
        });
        if (allowed) return { api: candidate.api, route: candidate.route, params };
      }
      return undefined;
    },
  };
}

export type RouteTable = ReturnType<typeof createRouteTable>;
