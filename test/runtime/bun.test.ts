/** bankgate/bun inside Bun (node_modules/.bin/bun, a devDependency): the file store, Bun's fetch with `tls`. */
import { describeRuntime } from './runtime-scenarios.js';
import { runtimeBinary } from './runtime-process.js';

describeRuntime({
  name: 'bun',
  gateway: () => ({ command: runtimeBinary('bun'), args: ['dist/scripts/gateway-bun.js'] }),
  store: (dir) => `file:${dir}/tokens`,
  probe: () => ({ command: runtimeBinary('bun'), args: ['test/runtime/probe/signing-probe.ts'] }),
});

describeRuntime({
  name: 'bun',
  gateway: () => ({ command: runtimeBinary('bun'), args: ['dist/scripts/gateway-bun.js'] }),
  store: (_dir, redisUrl) => redisUrl!,
  redis: true,
  probe: () => ({ command: runtimeBinary('bun'), args: ['test/runtime/probe/signing-probe.ts'] }),
});
