import type { ConfigInput } from '../../config/define-config.js';
import type { ResolvedConfig } from '../../config/resolve-config.js';
import { createGateway as createCoreGateway, type Gateway, type GatewayOptions } from '../../gateway.js';
import { bunRuntime } from './runtime.js';

/**
 * `createGateway` on Bun: the core's, with `bunRuntime()` (environment `options.env`, else `process.env`)
 * unless `options.runtime` names another.
 * @example
 *   import { createGateway } from 'bankgate/bun';
 *   const gateway = await createGateway(config);
 *   Bun.serve({ port: 8080, fetch: gateway.app.fetch });
 */
export function createGateway(input: ConfigInput | ResolvedConfig, options: GatewayOptions = {}): Promise<Gateway> {
  return createCoreGateway(input, { ...options, runtime: options.runtime ?? bunRuntime(options.env ? { env: options.env } : {}) });
}
