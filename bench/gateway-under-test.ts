/**
 * bankgate as a benchmark candidate (run through `bench/gateway-under-test`). Environment:
 *   HOST, PORT                         where to listen (default 127.0.0.1:3000)
 *   UPSTREAM_URL                       the bank's API server, https (its `/accounts` is the one operation)
 *   CLIENT_CERT, CLIENT_KEY, CA_CERT   PEM files: the QWAC presented to the bank, and the CA that signed its server certificate
 *   BEARER_TOKEN                       the access token of the stored connection `bench`, valid for an hour
 *   BANKGATE_DEV_KEY                   the caller key (`Authorization: Bearer …` on inbound calls)
 * The full pipeline runs: caller key, the connection from the default (encrypted file) store, spec
 * validation, bank headers (`X-Request-ID`), mTLS, metrics, logs (stderr), tracing. The authorization server is
 * static with dummy endpoints: nothing calls it while the token is fresh. Prints `ready <url>` on stdout.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runGateway } from '../scripts/lib/run-gateway.js';
import { BENCH_SCOPE, benchDocument, benchManifest } from './lib/bench-bank.js';

function required(name: string): string {
  const value = process.env[name];
  if (!value) {
    console.error(`gateway-under-test: set ${name} (see bench/README.md)`);
    process.exit(2);
  }
  return value;
}

const upstream = required('UPSTREAM_URL');
const bearer = required('BEARER_TOKEN');
required('BANKGATE_DEV_KEY');
const dir = mkdtempSync(join(tmpdir(), 'bankgate-gut-'));

const running = await runGateway({
  store: { url: `file:${join(dir, 'tokens')}`, encryption: { key: { value: randomBytes(32).toString('base64') } } },
  banks: {
    bench: {
      apis: { api: { manifest: benchManifest, document: benchDocument, baseUrl: upstream } },
      authorizationServer: { kind: 'static', issuer: 'https://as.bench.invalid', authorizationEndpoint: 'https://as.bench.invalid/authorize', tokenEndpoint: 'https://as.bench.invalid/token' },
      client: { clientId: 'bench', auth: { method: 'tls_client_auth' } },
      mtls: { cert: { file: required('CLIENT_CERT') }, key: { file: required('CLIENT_KEY') }, ca: { file: required('CA_CERT') } },
    },
  },
});

const now = Date.now();
await running.gateway.engine.store.put({
  id: 'bench',
  bank: 'bench',
  owner: 'key:dev', // the Caller.key of BANKGATE_DEV_KEY's caller
  status: 'active',
  scopes: [BENCH_SCOPE],
  createdAt: now,
  updatedAt: now,
  tokens: { accessToken: bearer, expiresAt: now + 3600_000, expiresIn: 3600, scope: BENCH_SCOPE },
});
process.stdout.write(`ready ${running.url}\n`);

const stop = async () => {
  await running.stop();
  rmSync(dir, { recursive: true, force: true });
  process.exit(0);
};
process.once('SIGINT', () => void stop());
process.once('SIGTERM', () => void stop());
