/** bankgate/deno inside Deno (node_modules/.bin/deno, a devDependency): Deno KV store, createHttpClient transport. */
import { describeRuntime } from './runtime-scenarios.js';
import { runtimeBinary } from './runtime-process.js';

describeRuntime({
  name: 'deno',
  gateway: () => ({ command: runtimeBinary('deno'), args: ['run', '--allow-net', '--allow-env', '--allow-read', '--allow-write', '--allow-sys', '--unstable-kv', 'dist/scripts/gateway-deno.js'] }),
  store: (dir) => `deno-kv:${dir}/tokens.kv`,
  probe: () => ({ command: runtimeBinary('deno'), args: ['run', '--allow-all', '--sloppy-imports', '--unstable-kv', 'test/runtime/probe/signing-probe.ts'] }),
});

describeRuntime({
  name: 'deno',
  gateway: () => ({ command: runtimeBinary('deno'), args: ['run', '--allow-net', '--allow-env', '--allow-read', '--allow-write', '--allow-sys', 'dist/scripts/gateway-deno.js'] }),
  store: (_dir, redisUrl) => redisUrl!,
  redis: true,
  probe: () => ({ command: runtimeBinary('deno'), args: ['run', '--allow-all', '--sloppy-imports', '--unstable-kv', 'test/runtime/probe/signing-probe.ts'] }),
});
