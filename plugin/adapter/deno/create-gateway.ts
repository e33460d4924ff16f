import type { ConfigInput } from '../../config/define-config.js';
import type { ResolvedConfig } from '../../config/resolve-config.js';
import { createGateway as createCoreGateway, type Gateway, type GatewayOptions } from '../../gateway.js';
import { denoRuntime } from './runtime.js';

/**
 * `createGateway` on Deno: the core's, with `denoRuntime()` (environment `options.env`, else `Deno.env`)
 * unless `options.runtime` names another.
 * @example
 *   import { createGateway } from 'bankgate/deno';
 *   const gateway = await createGateway(config);
 *   Deno.serve({ port: 8080 }, gateway.app.fetch);
 */
export function createGateway(input: ConfigInput | ResolvedConfig, options: GatewayOptions = {}): Promise<Gateway> {
  return createCoreGateway(input, { ...options, runtime: options.runtime ?? denoRuntime(options.env ? { env: options.env } : {}) });
}
