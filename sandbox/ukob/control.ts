/**
 * The ukob bank's control routes on the sandbox control plane, for tests: what happens to an intent at the bank
 * outside the TPP's view.
 *
 *   GET  /__sandbox/ukob                       these routes
 *   GET  /__sandbox/ukob/intents/<id>          the intent as the bank holds it (kind, status, PSU)
 *   POST /__sandbox/ukob/intents/<id>/expire   an AWAU or AUTH intent expires now (→ EXPD), as if its
 *                                              ExpirationDateTime (ValidToDateTime for a VRP) had passed
 *   POST /__sandbox/ukob/fx-contracts/<id>/expire   the FX contract expires now: an Agreed rate naming it is refused
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ControlExtension } from '../control-server.js';
import type { FxDesk } from './exchange-rates.js';
import type { IntentStore } from './intents.js';

const PREFIX = '/__sandbox/ukob';
const ROUTES = [`GET ${PREFIX}`, `GET ${PREFIX}/intents/<id>`, `POST ${PREFIX}/intents/<id>/expire`, `POST ${PREFIX}/fx-contracts/<id>/expire`];

function send(res: ServerResponse, status: number, body: unknown): void {
  res.statusCode = status;
  res.setHeader('content-type', 'application/json');
  res.setHeader('cache-control', 'no-store');
  res.end(JSON.stringify(body));
}

/** The control extension over the bank's intents and FX contracts. */
export function createUkobControl(intents: IntentStore, fx: FxDesk): ControlExtension {
  function route(req: IncomingMessage, url: URL): [number, unknown] {
    const [kind, id, action] = url.pathname.split('/').filter(Boolean).slice(2); // after __sandbox/ukob
    const method = req.method ?? 'GET';
    if (kind === undefined && method === 'GET') return [200, { routes: ROUTES }];
    if (kind === 'fx-contracts' && id && method === 'POST' && action === 'expire') {
      return fx.expireNow(id, Date.now()) ? [200, { id, expirationDateTime: fx.contract(id)!.expirationDateTime }] : [404, { error: `no FX contract ${id}` }];
    }
    if (kind === 'intents' && id) {
      const intent = intents.get(id);
      if (!intent) return [404, { error: `no intent ${id}` }];
      const view = { id: intent.id, kind: intent.kind, status: intent.status, statusUpdateDateTime: intent.statusUpdateDateTime, ...(intent.psuId ? { psuId: intent.psuId } : {}) };
      if (method === 'GET' && action === undefined) return [200, view];
      if (method === 'POST' && action === 'expire') {
        if (!intents.expireNow(id)) return [409, { error: `intent ${id} is ${intent.status}: only an AWAU or AUTH intent can expire`, ...view }];
        return [200, { ...view, status: intent.status, statusUpdateDateTime: intent.statusUpdateDateTime }];
      }
    }
    return [404, { error: `no ${method} ${url.pathname}`, routes: ROUTES }];
  }

  return {
    prefix: PREFIX,
    routes: ROUTES,
    handle(req, res, url) {
      const [status, body] = route(req, url);
      send(res, status, body);
    },
  };
}
