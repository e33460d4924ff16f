import type { ConfigInput } from '../../config/define-config.js';
import { createGateway, type Gateway, type GatewayOptions } from '../../gateway.js';
import { workersRuntime } from './runtime.js';
import type { ExecutionContext, WorkersEnv } from './workers-api.js';

/** The Worker's handler: `export default createWorkersHandler(config)`. */
export interface WorkersHandler {
  fetch(request: Request, env: WorkersEnv, context?: ExecutionContext): Promise<Response>;
}

/**
 * A Worker serving bankgate. The gateway is built on the first request of each isolate (the config may read
 * the env: secrets and bindings are only known then) and reused by the isolate's next requests; a build that
 * fails is retried by the next request, and answers this one with the problem (config problems name their path).
 * @example
 *   import { BankgateStoreObject, createWorkersHandler } from 'bankgate/workers';
 *   export default createWorkersHandler((env) => config(env));
 *   export { BankgateStoreObject };
 */
export function createWorkersHandler(config: ConfigInput | ((env: WorkersEnv) => ConfigInput), options: Omit<GatewayOptions, 'runtime'> = {}): WorkersHandler {
  let building: Promise<Gateway> | undefined;
  return {
    async fetch(request, env) {
      building ??= createGateway(typeof config === 'function' ? (config as (env: WorkersEnv) => ConfigInput)(env) : config, { ...options, runtime: workersRuntime(env) });
      let gateway: Gateway;
      try {
        gateway = await building;
      } catch (error) {
        building = undefined;
        console.log(JSON.stringify({ level: 'error', event: 'gateway.start_failed', detail: (error as Error).message }));
        return Response.json({ title: 'bankgate could not start', status: 500, detail: (error as Error).message }, { status: 500, headers: { 'content-type': 'application/problem+json' } });
      }
      return gateway.app.fetch(request);
    },
  };
}
