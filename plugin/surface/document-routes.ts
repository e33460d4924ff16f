import { Hono } from 'hono';
import { BankgateError } from '../errors/bankgate-error.js';
import { problemResponse } from './problem.js';
import type { MountPrefixVariables } from './mount-prefix.js';
import { buildSurfaceDocument, type SurfaceApi } from './surface-document.js';

/** A mounted bank as its documents name it. */
export interface DocumentedBank {
  readonly name: string;
  readonly displayName: string;
  readonly apis: readonly SurfaceApi[];
}

/**
 * `GET /openapi.json`: the whole surface in one OpenAPI 3.1 document. `GET /openapi/{bank}.json`: the consent API and
 * one bank's APIs, what `/docs` loads per bank (a reference of every bank at once, UK Open Banking's four specs
 * and Berlin Group's schemas together, is megabytes a browser renders for most of a minute).
 * Each is built once per mount prefix, on first request: the mounted APIs do not change while running.
 */
export function documentRoutes(options: { banks: readonly DocumentedBank[]; serverUrl: () => string }) {
  const app = new Hono<{ Variables: MountPrefixVariables }>();
  const built = new Map<string, string>();
  // A host mounts at one or two prefixes; beyond a few, build per request rather than grow without bound.
  const documentOf = (key: string, build: () => unknown): string => {
    let document = built.get(key);
    if (document === undefined) {
      document = JSON.stringify(build());
      if (built.size < 16 * (options.banks.length + 1)) built.set(key, document);
    }
    return document;
  };
  const all = options.banks.flatMap((bank) => bank.apis);
  const byName = new Map(options.banks.map((bank) => [bank.name, bank]));

  app.get('/openapi.json', (c) => {
    const prefix = c.get('mountPrefix');
    const document = documentOf(`${prefix} *`, () => buildSurfaceDocument(all, { serverUrl: options.serverUrl(), basePath: prefix }));
    return c.body(document, 200, { 'content-type': 'application/json' });
  });
  app.get('/openapi/:file', (c) => {
    const prefix = c.get('mountPrefix');
    const file = c.req.param('file');
    const bank = file.endsWith('.json') ? byName.get(file.slice(0, -'.json'.length)) : undefined;
    if (!bank) {
      const detail = `no bank document ${file.slice(0, 100)}; the banks are ${[...byName.keys()].map((name) => `${prefix}/openapi/${name}.json`).join(', ')}, all of them at ${prefix}/openapi.json`;
      return problemResponse(new BankgateError('route_not_found', { status: 404, detail }), c.req.path);
    }
    const document = documentOf(`${prefix} ${bank.name}`, () => buildSurfaceDocument(bank.apis, { serverUrl: options.serverUrl(), basePath: prefix, title: `bankgate: ${bank.displayName}` }));
    return c.body(document, 200, { 'content-type': 'application/json' });
  });
  return app;
}
