import createClient, { type Client } from 'openapi-fetch';
import type { paths } from '../../generated/surface/schema.js';

export type GatewayPaths = paths;

export interface GatewayClientOptions {
  /** The gateway's base URL, e.g. `https://gateway.internal`. */
  readonly baseUrl: string;
  /** The caller's internal credential (a JWT or a static key), or a function that returns a fresh one per call. */
  readonly credential: string | (() => string | Promise<string>);
  /** A fetch to use instead of the global one (an in-process `app.fetch`, a fetch with a proxy agent, …). */
  readonly fetch?: (request: Request) => Promise<Response>;
}

/**
 * A typed client of the gateway's surface, on openapi-fetch, with types generated from the surface document
 * (`generated/surface/schema.ts`): paths, parameters (including `X-Connection-Id` and the bank-required
 * `PSU-*` headers) and bodies are checked at compile time. Calls return `{ data, error, response }`; `error`
 * is the gateway's problem document.
 *
 * @example
 *   const gateway = createGatewayClient({ baseUrl: 'https://gateway.internal', credential: () => tokens.get() });
 *   const { data, error } = await gateway.GET('/seb/ais/accounts', {
 *     params: { header: { 'X-Connection-Id': connectionId, 'PSU-IP-Address': psuIp } },
 *   });
 */
export function createGatewayClient(options: GatewayClientOptions): Client<GatewayPaths> {
  const client = createClient<GatewayPaths>({ baseUrl: options.baseUrl.replace(/\/$/, ''), ...(options.fetch ? { fetch: options.fetch } : {}) });
  client.use({
    async onRequest({ request }) {
      const credential = typeof options.credential === 'function' ? await options.credential() : options.credential;
      request.headers.set('authorization', `Bearer ${credential}`);
      return request;
    },
  });
  return client;
}
