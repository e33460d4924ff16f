import { Scalar } from '@scalar/hono-api-reference';
import { Hono } from 'hono';
import type { MountPrefixVariables } from './mount-prefix.js';

/**
 * `GET /docs`: an interactive reference (Scalar) of the surface, one document per bank (`/openapi/{bank}.json`, picked
 * in Scalar's document selector and fetched when picked), all under the mount prefix. The Scalar bundle is served by the
 * gateway itself, not from a CDN: gateways run where the public internet is not reachable, and the docs
 * page should not depend on a third party's uptime. The runtime reads the bundle (`script`: on Node, from
 * `node_modules`), once, on first request.
 */
export function docsRoutes(options: { title: string; banks: readonly { name: string; displayName: string }[]; script: () => Promise<string> }) {
  const app = new Hono<{ Variables: MountPrefixVariables }>();
  let bundle: Promise<string> | undefined;
  app.get('/docs/scalar.js', async (c) => {
    bundle ??= options.script().catch((error: unknown) => {
      bundle = undefined; // asked again next time
      throw error;
    });
    return c.body(await bundle, 200, { 'content-type': 'text/javascript; charset=utf-8', 'cache-control': 'public, max-age=3600' });
  });
  app.get(
    '/docs',
    // Per request: under a mount prefix, the document and the bundle are under it too.
    Scalar<{ Variables: MountPrefixVariables }>((c) => ({
      sources: options.banks.map((bank, index) => ({ title: bank.displayName, slug: bank.name, url: `${c.get('mountPrefix') ?? ''}/openapi/${bank.name}.json`, default: index === 0, agent: { disabled: true } })),
      cdn: `${c.get('mountPrefix') ?? ''}/docs/scalar.js`,
      pageTitle: options.title,
      defaultOpenAllTags: true,
      // Nothing leaves the network the gateway runs in: no web fonts, no telemetry, no hosted tools (nor the hosted
      // "Ask AI" agent, per source above).
      withDefaultFonts: false,
      telemetry: false,
      showDeveloperTools: 'never',
      hideClientButton: true,
      persistAuth: false,
    })),
  );
  return app;
}
