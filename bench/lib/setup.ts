/** What every proxy candidate needs: PKI files, free ports, the upstream process, the candidates' env. */
import { createServer } from 'node:net';
import { join } from 'node:path';
import { writePkiFiles, type PkiFiles } from './pki-files.js';
import { NODE_TS, repoRoot, startProcess, type Started } from './processes.js';

export const BEARER_TOKEN = 'bench-bank-access-token-0123456789';
export const DEV_KEY = 'bench-dev-key-0123456789abcdef';
/** What wrk (and the checks) send to every gateway candidate. */
export const CALLER_HEADERS = { authorization: `Bearer ${DEV_KEY}`, 'x-connection-id': 'bench' };
export const GATEWAY_PATH = '/bench/api/accounts';

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

export interface BenchUpstream {
  readonly pki: PkiFiles;
  readonly port: number;
  readonly directPort: number;
  readonly process: Started;
  /** Env of a candidate listening on `port`: the contract of bench/gateway-under-test. */
  candidateEnv(port: number): Record<string, string>;
}

export async function startUpstream(dir: string): Promise<BenchUpstream> {
  const pki = await writePkiFiles(dir);
  const [port, directPort] = [await freePort(), await freePort()];
  const process = await startProcess('node', [...NODE_TS, join(repoRoot, 'bench/candidates/upstream.ts')], {
    PORT: String(port),
    DIRECT_PORT: String(directPort),
    SERVER_CERT: pki.serverCert,
    SERVER_KEY: pki.serverKey,
    CA_CERT: pki.caCert,
    BEARER_TOKEN,
  });
  return {
    pki,
    port,
    directPort,
    process,
    candidateEnv: (candidatePort) => ({
      HOST: '127.0.0.1',
      PORT: String(candidatePort),
      UPSTREAM_URL: `https://127.0.0.1:${port}`,
      CLIENT_CERT: pki.clientCert,
      CLIENT_KEY: pki.clientKey,
      CA_CERT: pki.caCert,
      BEARER_TOKEN,
      BANKGATE_DEV_KEY: DEV_KEY,
      NODE_ENV: 'production',
    }),
  };
}
