/**
 * The "bank" of the proxy benchmark, in its own process: Node `https` answering `GET /accounts` with ~500 B
 * of JSON. PORT demands a client certificate from the CA (mTLS, as a PSD2 bank does) and answers 401 unless
 * `Authorization: Bearer $BEARER_TOKEN` arrived, so a candidate that forgot the token swap shows as errors.
 * DIRECT_PORT serves the same answer without asking for a client certificate: wrk, which cannot present
 * one, measures the "direct" baseline there. Env: PORT, DIRECT_PORT, SERVER_CERT, SERVER_KEY, CA_CERT, BEARER_TOKEN.
 */
import { readFileSync } from 'node:fs';
import https from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ACCOUNTS_BODY } from './upstream-body.js';


const env = (name: string) => process.env[name] ?? (console.error(`upstream: set ${name}`), process.exit(2));
const expected = `Bearer ${env('BEARER_TOKEN')}`;
const tls = { cert: readFileSync(env('SERVER_CERT')), key: readFileSync(env('SERVER_KEY')), ca: readFileSync(env('CA_CERT')) };

function handle(req: IncomingMessage, res: ServerResponse, checkToken: boolean): void {
  if (req.method !== 'GET' || req.url !== '/accounts') {
    res.writeHead(404).end();
    return;
  }
  if (checkToken && req.headers.authorization !== expected) {
    res.writeHead(401, { 'content-type': 'application/json' }).end('{"error":"invalid_token"}');
    return;
  }
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': ACCOUNTS_BODY.length }).end(ACCOUNTS_BODY);
}

const listen = (server: https.Server, port: number) => new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
const mtls = https.createServer({ ...tls, requestCert: true, rejectUnauthorized: true }, (req, res) => handle(req, res, true));
const direct = https.createServer({ ...tls, requestCert: false }, (req, res) => handle(req, res, true));
for (const server of [mtls, direct]) server.keepAliveTimeout = 60_000;
await Promise.all([listen(mtls, Number(env('PORT'))), listen(direct, Number(env('DIRECT_PORT')))]);
process.stdout.write('ready\n');
// A clean exit on SIGTERM: --cpu-prof writes its profile only then.
process.once('SIGTERM', () => process.exit(0));
