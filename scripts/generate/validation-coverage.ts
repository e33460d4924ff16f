import type { ApiManifest, RouteManifest } from '../../plugin/manifest/types.js';
import type { MetricsRegistry } from '../../plugin/observability/metrics.js';
import type { RouteMatch } from '../../plugin/surface/route-table.js';
import type { SpecDocument } from './load-spec.js';

/**
 * Compiles every operation of a normalised document with the gateway's own validator (the same schema dialect, the
 * same Ajv options), so that what the manifest says is validated is exactly what will be at run time. Returns, per
 * operationId, what cannot be validated and why (empty operations left out).
 */
export async function validationCoverage(manifest: ApiManifest, doc: SpecDocument): Promise<Map<string, string>> {
  const [{ createSpecValidator }, { MetricsRegistry }] = await Promise.all([import('../../plugin/surface/validation/spec-validator.js'), import('../../plugin/observability/metrics.js')]);
  const key = `${manifest.bank}/${manifest.api}`;
  const silent = { info() {}, warn() {}, error() {} };
  const validator = createSpecValidator({ documents: new Map([[key, doc]]), responses: 'report', log: silent, metrics: new MetricsRegistry() as MetricsRegistry });
  const out = new Map<string, string>();
  for (const route of manifest.routes) {
    const match = { mounted: { bank: { name: manifest.bank }, api: { name: manifest.api }, route }, params: {} } as unknown as RouteMatch;
    const parts = validator.coverage(match);
    if (parts.length > 0) out.set(route.operationId, parts.join('; '));
  }
  return out;
}

/** The manifest with each route's `unvalidated` reason. */
export function withCoverage(manifest: ApiManifest, coverage: ReadonlyMap<string, string>): ApiManifest {
  const routes = manifest.routes.map((route): RouteManifest => {
    const reason = coverage.get(route.operationId);
    return reason === undefined ? route : { ...route, unvalidated: reason };
  });
  return { ...manifest, routes };
}
