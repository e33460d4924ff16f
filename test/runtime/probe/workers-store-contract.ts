/**
 * A Worker run INSIDE workerd by the Workers runtime suite: the ConnectionStore v2 contract on the Durable
 * Object store (the BANKGATE_STORE namespace, BankgateStoreObject), each check under object names of its
 * own, as if on a fresh store. Answers the lines as JSON.
 */
import { createDurableObjectStore, BankgateStoreObject, type DurableObjectNamespace, type WorkersEnv } from '../../../plugin/adapter/workers/index.js';
import { silentLogger } from '../../../plugin/log.js';
import { KeyRing, parseStoreKey } from '../../../plugin/store/key-ring.js';
import { runStoreContract } from '../store-contract-v2.js';

export default {
  async fetch(_request: Request, env: WorkersEnv): Promise<Response> {
    const keys = new KeyRing(await parseStoreKey(String(env.BANKGATE_STORE_KEY), 'key'));
    const namespace = env.BANKGATE_STORE as DurableObjectNamespace;
    let run = 0;
    // Each check gets its own names (a prefix on every object name), as if it had a fresh store.
    const prefixed = (prefix: string): DurableObjectNamespace => ({ idFromName: (name) => namespace.idFromName(`${prefix}/${name}`), get: (id) => namespace.get(id) });
    const lines: string[] = [];
    await runStoreContract(async () => createDurableObjectStore({ namespace: prefixed(`run${run++}`), keys, log: silentLogger }), (line) => lines.push(line));
    return Response.json(lines);
  },
};
export { BankgateStoreObject };
