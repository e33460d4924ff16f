/**
 * Runs INSIDE Deno (`deno run --unstable-kv --sloppy-imports`): the ConnectionStore v2 contract on the Deno KV
 * store, on a real KV database file (argv[0], or :memory:), then the sealing checks: no token in clear in
 * any raw KV value, and a record moved to another id does not open. Prints `contract ok|fail <name>`, then `done`.
 */
import { createDenoKvStore } from '../../../plugin/adapter/deno/kv-store.js';
import { deno } from '../../../plugin/adapter/deno/deno-api.js';
import { silentLogger } from '../../../plugin/log.js';
import { KeyRing, parseStoreKey } from '../../../plugin/store/key-ring.js';
import { ACCESS, REFRESH, connection, runStoreContract, sid } from '../store-contract-v2.js';

const Deno = deno() as ReturnType<typeof deno> & { args: string[] };
const path = Deno.args[0] ?? ':memory:';
const keys = new KeyRing(await parseStoreKey(btoa(String.fromCharCode(...new Uint8Array(32).fill(7))), 'key'));
const kv = await Deno.openKv!(path);
let n = 0;
await runStoreContract(async () => createDenoKvStore({ kv, keys, log: silentLogger, prefix: `t${n++}` }), (line) => console.log(line));

// Sealed at rest: every raw value under the prefix, as Deno KV holds it.
const store = createDenoKvStore({ kv, keys, log: silentLogger, prefix: 'sealed' });
await store.put(connection('s1', { pending: { state: 'st-s', codeVerifier: 'verifier-secret', redirectUri: 'http://x/cb', expiresAt: Date.now() + 60_000 } }));
const raw = kv as unknown as { list(selector: { prefix: unknown[] }): AsyncIterable<{ key: unknown[]; value: unknown }>; set(key: unknown[], value: unknown): Promise<unknown> };
let clear = '';
for await (const entry of raw.list({ prefix: ['sealed'] })) clear += JSON.stringify(entry.value);
const leaks = [ACCESS, REFRESH, 'verifier-secret'].filter((secret) => clear.includes(secret));
console.log(leaks.length === 0 && clear.length > 0 ? 'contract ok no token or verifier in clear in Deno KV' : `contract fail no token or verifier in clear in Deno KV: found ${leaks.length} secrets`);
const moved = (await kv.get(['sealed', 'c', sid('s1')])).value;
if (moved === null) throw new Error('probe: the sealed record is not where the store keys it');
await raw.set(['sealed', 'c', sid('s2')], moved);
let opened = true;
try {
  await store.get(sid('s2'));
} catch {
  opened = false;
}
console.log(!opened ? 'contract ok a record moved to another id does not open' : 'contract fail a record moved to another id does not open: it opened');
kv.close();
console.log('done');
