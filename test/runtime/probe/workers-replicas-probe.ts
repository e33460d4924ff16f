/**
 * A Worker run INSIDE workerd by the Workers runtime suite: two gateways in one Worker, as two isolates would
 * be, each with its own in-process single-flight, sharing the Durable Object store. A request goes to the
 * second when it carries `x-replica: b`, else to the first; what is left of a refresh storm across them is
 * the store's single flight (the refresh lock's object).
 */
import { BankgateStoreObject, createWorkersHandler } from '../../../plugin/adapter/workers/index.js';
import type { WorkersEnv } from '../../../plugin/adapter/workers/index.js';
import { sandboxConfig } from '../../../scripts/workers/sandbox-worker.js';

const replicas = { a: createWorkersHandler(sandboxConfig), b: createWorkersHandler(sandboxConfig) };

export default {
  fetch: (request: Request, env: WorkersEnv): Promise<Response> => (request.headers.get('x-replica') === 'b' ? replicas.b : replicas.a).fetch(request, env),
};
export { BankgateStoreObject };
