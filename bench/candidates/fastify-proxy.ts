/**
 * `@fastify/http-proxy` in front of the upstream: `/bench/api/*` → `UPSTREAM_URL/*` over undici with the
 * client certificate, the inbound Authorization replaced by the bank token. Fastify's logger off.
 * Env as bench/gateway-under-test: HOST, PORT, UPSTREAM_URL, CLIENT_CERT, CLIENT_KEY, CA_CERT, BEARER_TOKEN.
 */
import { readFileSync } from 'node:fs';
import proxy from '@fastify/http-proxy';
import Fastify from 'fastify';

const env = (name: string) => process.env[name] ?? (console.error(`fastify-proxy: set ${name}`), process.exit(2));
const authorization = `Bearer ${env('BEARER_TOKEN')}`;
const app = Fastify({ logger: false });
await app.register(proxy, {
  upstream: env('UPSTREAM_URL').replace(/\/$/, ''),
  prefix: '/bench/api',
  rewritePrefix: '',
  undici: { connect: { cert: readFileSync(env('CLIENT_CERT')), key: readFileSync(env('CLIENT_KEY')), ca: readFileSync(env('CA_CERT')) }, keepAliveTimeout: 60_000 },
  replyOptions: {
    rewriteRequestHeaders: (_request, headers) => {
      const { 'x-connection-id': _connection, ...rest } = headers;
      return { ...rest, authorization };
    },
  },
});
await app.listen({ port: Number(process.env.PORT ?? 3000), host: process.env.HOST ?? '127.0.0.1' });
process.stdout.write('ready\n');
// A clean exit on SIGTERM: --cpu-prof writes its profile only then.
process.once('SIGTERM', () => process.exit(0));
