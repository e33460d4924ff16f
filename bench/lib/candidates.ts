/** The candidates of the proxy benchmark, in the order they run in each round. */
import { join } from 'node:path';
import { ACCOUNTS_BODY } from '../candidates/upstream-body.js';
import { startNginx } from '../candidates/nginx.js';
import { NODE_TS, repoRoot, startProcess, type Started } from './processes.js';
import { BEARER_TOKEN, CALLER_HEADERS, freePort, GATEWAY_PATH, type BenchUpstream } from './setup.js';

export const ACCOUNTS_BODY_BYTES = ACCOUNTS_BODY.length;

export interface Candidate {
  readonly name: string;
  readonly description: string;
  /** Headers wrk sends. */
  readonly headers: Record<string, string>;
  /** What the candidate answers: the upstream's bytes, unless it rewrites the links in them (bankgate). */
  readonly expectedBody?: Buffer;
  start(upstream: BenchUpstream, dir: string): Promise<{ started?: Started; url: string }>;
}

const nodeCandidate = (name: string, description: string, script: string[]): Candidate => ({
  name,
  description,
  headers: CALLER_HEADERS,
  async start(upstream) {
    const port = await freePort();
    const started = await startProcess(script[0]!, script.slice(1), upstream.candidateEnv(port));
    return { started, url: `http://127.0.0.1:${port}${GATEWAY_PATH}` };
  },
});

export const candidates: readonly Candidate[] = [
  {
    name: 'direct',
    description: 'wrk straight to the upstream over TLS (no proxy; wrk cannot present a client certificate, so this listener does not ask for one)',
    headers: { authorization: `Bearer ${BEARER_TOKEN}` },
    async start(upstream) {
      return { url: `https://127.0.0.1:${upstream.directPort}/accounts` };
    },
  },
  {
    name: 'nginx',
    description: 'nginx (Debian), 1 worker, proxy_pass over mTLS (proxy_ssl_certificate), upstream keep-alive, Authorization set',
    headers: CALLER_HEADERS,
    async start(upstream, dir) {
      const port = await freePort();
      const started = await startNginx(dir, port, upstream.port, upstream.pki, BEARER_TOKEN);
      return { started, url: `http://127.0.0.1:${port}${GATEWAY_PATH}` };
    },
  },
  nodeCandidate('fastify', '@fastify/http-proxy (undici, mTLS), Authorization rewritten', ['node', ...NODE_TS, join(repoRoot, 'bench/candidates/fastify-proxy.ts')]),
  nodeCandidate('node-undici', 'bare node:http + undici Agent.request (mTLS), Authorization set, nothing else', ['node', ...NODE_TS, join(repoRoot, 'bench/candidates/node-undici.ts')]),
  {
    ...nodeCandidate('bankgate', 'bankgate, full pipeline (bench/gateway-under-test): caller key, stored connection, validation, bank headers, mTLS, metrics, logs, links in the answer pointed at the gateway', [join(repoRoot, 'bench/gateway-under-test')]),
    // Each account's `_links.balances` names a declared operation: bankgate answers it under its gateway path.
    expectedBody: Buffer.from(ACCOUNTS_BODY.toString().replaceAll('"href":"/accounts/', `"href":"${GATEWAY_PATH.replace(/\/accounts$/, '')}/accounts/`)),
  },
  {
    ...nodeCandidate('bankgate-bun', 'bankgate on Bun (bankgate/bun, bench/gateway-under-test-edge.ts): the same pipeline, Bun.serve, fetch with tls, the file store', [join(repoRoot, 'node_modules/.bin/bun'), join(repoRoot, 'bench/gateway-under-test-edge.ts')]),
    expectedBody: Buffer.from(ACCOUNTS_BODY.toString().replaceAll('"href":"/accounts/', `"href":"${GATEWAY_PATH.replace(/\/accounts$/, '')}/accounts/`)),
  },
  {
    ...nodeCandidate('bankgate-deno', 'bankgate on Deno (bankgate/deno, bench/gateway-under-test-edge.ts): the same pipeline, Deno.serve, createHttpClient, Deno KV', [join(repoRoot, 'node_modules/.bin/deno'), 'run', '-A', '--sloppy-imports', '--unstable-kv', join(repoRoot, 'bench/gateway-under-test-edge.ts')]),
    expectedBody: Buffer.from(ACCOUNTS_BODY.toString().replaceAll('"href":"/accounts/', `"href":"${GATEWAY_PATH.replace(/\/accounts$/, '')}/accounts/`)),
  },
];
