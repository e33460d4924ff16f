/**
 * The bare Node baseline: `http.createServer` and `undici.request` over an mTLS Agent, nothing else. It maps
 * `/bench/api/*` to the upstream and swaps the bearer token; no auth, no validation, no logs.
 * Env as bench/gateway-under-test: HOST, PORT, UPSTREAM_URL, CLIENT_CERT, CLIENT_KEY, CA_CERT, BEARER_TOKEN.
 */
import { readFileSync } from 'node:fs';
import http from 'node:http';
import { Agent } from 'undici';

const env = (name: string) => process.env[name] ?? (console.error(`node-undici: set ${name}`), process.exit(2));
const upstream = new URL(env('UPSTREAM_URL'));
const authorization = `Bearer ${env('BEARER_TOKEN')}`;
const agent = new Agent({ connect: { cert: readFileSync(env('CLIENT_CERT')), key: readFileSync(env('CLIENT_KEY')), ca: readFileSync(env('CA_CERT')) }, keepAliveTimeout: 60_000 });
const PREFIX = '/bench/api';

const server = http.createServer(async (req, res) => {
  if (!req.url?.startsWith(PREFIX + '/')) return void res.writeHead(404).end();
  try {
    const answer = await agent.request({
      origin: upstream.origin,
      path: upstream.pathname.replace(/\/$/, '') + req.url.slice(PREFIX.length),
      method: 'GET',
      headers: { authorization, accept: req.headers.accept ?? 'application/json' },
    });
    const body = Buffer.from(await answer.body.arrayBuffer());
    res.writeHead(answer.statusCode, { 'content-type': String(answer.headers['content-type'] ?? 'application/octet-stream'), 'content-length': body.length }).end(body);
  } catch {
    res.writeHead(502).end();
  }
});
server.keepAliveTimeout = 60_000;
server.listen(Number(process.env.PORT ?? 3000), process.env.HOST ?? '127.0.0.1', () => process.stdout.write('ready\n'));
// A clean exit on SIGTERM: --cpu-prof writes its profile only then.
process.once('SIGTERM', () => process.exit(0));
