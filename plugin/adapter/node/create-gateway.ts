import type { ConfigInput } from '../../config/define-config.js';
import type { ResolvedConfig } from '../../config/resolve-config.js';
import { createGateway as createCoreGateway, type Gateway, type GatewayOptions } from '../../gateway.js';
import { nodeRuntime } from './runtime.js';

/**
 * `createGateway` on Node: the core's, with `nodeRuntime()` (environment `options.env`, else `process.env`)
 * unless `options.runtime` names another.
 * @example
 *   import { createGateway, createNodeHandler } from 'bankgate/node';
 *   const gateway = await createGateway(config);
 *   http.createServer(createNodeHandler(gateway)).listen(3000);
 */
export function createGateway(input: ConfigInput | ResolvedConfig, options: GatewayOptions = {}): Promise<Gateway> {
  return createCoreGateway(input, { ...options, runtime: options.runtime ?? nodeRuntime(options.env ? { env: options.env } : {}) });
}
