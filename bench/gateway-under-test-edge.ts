/**
 * bankgate as a benchmark candidate on Deno (`deno run -A --sloppy-imports --unstable-kv`) or Bun (`bun`):
 * the same full pipeline and environment as bench/gateway-under-test.ts (Node), served by the runtime's own
 * server (`Deno.serve`, `Bun.serve`) through `gateway.app.fetch`, the QWAC over the runtime's mTLS fetch, the
 * connection in the runtime's persistent store (Deno KV on Deno, the encrypted file store on Bun).
 * Prints `ready <url>` on stdout.
 */
import type { BankgateConfig, Gateway } from '../plugin/index.js';
import { BENCH_SCOPE, benchDocument, benchManifest } from './lib/bench-bank.js';

type Serve = (fetch: (request: Request) => Response | Promise<Response>, port: number, hostname: string) => void;
const Deno = (globalThis as { Deno?: { serve(options: { port: number; hostname: string; onListen(): void }, handler: (request: Request) => Response | Promise<Response>): unknown; makeTempDirSync(): string } }).Deno;
const Bun = (globalThis as { Bun?: { serve(options: { port: number; hostname: string; fetch: (request: Request) => Response | Promise<Response> }): unknown } }).Bun;

function required(name: string): string {
  const value = process.env[name];
  if (!value) {
    console.error(`gateway-under-test-edge: set ${name} (see bench/README.md)`);
    process.exit(2);
  }
  return value;
}

const { mkdtempSync } = await import('node:fs');
const { tmpdir } = await import('node:os');
const dir = mkdtempSync(`${tmpdir()}/bankgate-gut-edge-`);
const storeKey = btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(32))));
const config: BankgateConfig = {
  store: { url: Deno ? `deno-kv:${dir}/tokens.kv` : `file:${dir}/tokens`, encryption: { key: { value: storeKey } } },
  banks: {
    bench: {
      apis: { api: { manifest: benchManifest, document: benchDocument, baseUrl: required('UPSTREAM_URL') } },
      authorizationServer: { kind: 'static', issuer: 'https://as.bench.invalid', authorizationEndpoint: 'https://as.bench.invalid/authorize', tokenEndpoint: 'https://as.bench.invalid/token' },
      client: { clientId: 'bench', auth: { method: 'tls_client_auth' } },
      mtls: { cert: { file: required('CLIENT_CERT') }, key: { file: required('CLIENT_KEY') }, ca: { file: required('CA_CERT') } },
    },
  },
};
required('BANKGATE_DEV_KEY');
const bearer = required('BEARER_TOKEN');

let gateway: Gateway;
let serve: Serve;
if (Deno) {
  gateway = await (await import('../plugin/adapter/deno/index.js')).createGateway(config);
  serve = (fetch, port, hostname) => Deno.serve({ port, hostname, onListen() {} }, fetch);
} else if (Bun) {
  gateway = await (await import('../plugin/adapter/bun/index.js')).createGateway(config);
  serve = (fetch, port, hostname) => Bun.serve({ port, hostname, fetch });
} else {
  throw new Error('gateway-under-test-edge runs on Deno or Bun; Node runs bench/gateway-under-test.ts');
}

const now = Date.now();
await gateway.engine.store.put({
  id: 'bench',
  bank: 'bench',
  owner: 'dev', // the caller of BANKGATE_DEV_KEY, as in bench/gateway-under-test.ts
  status: 'active',
  scopes: [BENCH_SCOPE],
  createdAt: now,
  updatedAt: now,
  tokens: { accessToken: bearer, expiresAt: now + 3600_000, expiresIn: 3600, scope: BENCH_SCOPE },
});
const port = Number(process.env.PORT ?? 3000);
const hostname = process.env.HOST ?? '127.0.0.1';
serve((request) => gateway.app.fetch(request), port, hostname);
process.stdout.write(`ready http://${hostname}:${port}\n`);
