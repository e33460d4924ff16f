/**
 * Issue 15, findings 10 and 11, in both framings over real sockets: the Node fast path (`createNodeHandler`,
 * as `npm start` serves) and the Hono app served as it is (`getRequestListener(gateway.app.fetch)`).
 * - Repeated `Authorization` headers are refused (401, reason `repeated`) by both, whichever path.
 * - A request body past the limit is refused (413 `payload_too_large`) on its `Content-Length` before
 *   anything is read, and while reading when there is none (chunked): in both cases the answer comes while
 *   the client is still sending, so the gateway never waited for (or buffered) the whole body.
 */
import { getRequestListener } from '@hono/node-server';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SG_PAYMENT } from '../fixtures/sg-payment.js';
import { DEV_KEY, PSU_IP, startHarness, type Harness } from './harness.js';

/** `banks.sg.transport.maxRequestBytes` in this run (the default, 1 MiB, applies to SEB). */
const SG_LIMIT = 64 * 1024;
/** `banks.sg.apis.cbpii.requestBodyLimits.fundsConfirmationsPost`: one operation's own limit, under the bank's. */
const FUNDS_LIMIT = 512;

interface RawAnswer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/**
 * Sends `head` (request line and headers, CRLF-separated, without the blank line) and then `body` pieces
 * over one socket, and resolves with the answer as soon as it is complete, even if the request is not.
 * `keepSending`: after the given body, the socket stays open without sending the rest.
 */
function rawRequest(port: number, head: string[], body: Array<Buffer | string> = []): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let received = Buffer.alloc(0);
    const finish = (answer: RawAnswer) => {
      socket.destroy();
      resolve(answer);
    };
    socket.on('data', (chunk) => {
      received = Buffer.concat([received, chunk]);
      const end = received.indexOf('\r\n\r\n');
      if (end === -1) return;
      const [statusLine, ...lines] = received.subarray(0, end).toString('latin1').split('\r\n');
      const headers = Object.fromEntries(lines.map((l) => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 1).trim()]));
      const length = Number(headers['content-length'] ?? 0);
      const rest = received.subarray(end + 4);
      if (rest.length >= length) finish({ status: Number(statusLine!.split(' ')[1]), headers, body: rest.subarray(0, length).toString('utf8') });
    });
    socket.on('error', (error) => (received.length > 0 ? undefined : reject(error)));
    socket.on('connect', () => {
      socket.write(`${head.join('\r\n')}\r\n\r\n`);
      for (const piece of body) socket.write(piece);
    });
  });
}

describe('bounded inputs and one Authorization, in both framings (findings 10, 11)', () => {
  let h: Harness;
  let honoServer: Server;
  let ports: Record<'node' | 'hono', number>;

  beforeAll(async () => {
    h = await startHarness({
      adjust: (config) => {
        config.banks.sg!.transport = { ...config.banks.sg!.transport, maxRequestBytes: SG_LIMIT } as never;
        config.banks.sg!.apis.cbpii = { ...config.banks.sg!.apis.cbpii!, requestBodyLimits: { fundsConfirmationsPost: FUNDS_LIMIT } } as never;
      },
    });
    await h.connect('sg', 'sg-bounded');
    honoServer = createServer(getRequestListener(h.gateway.app.fetch));
    await new Promise<void>((resolve) => honoServer.listen(0, '127.0.0.1', resolve));
    ports = { node: Number(new URL(h.url).port), hono: (honoServer.address() as AddressInfo).port };
  });
  afterAll(async () => {
    await new Promise<void>((resolve) => honoServer?.close(() => resolve()));
    await h?.close();
  });

  const framings = ['node', 'hono'] as const;
  const payment = JSON.stringify(SG_PAYMENT);
  const paymentHead = (extra: string[]) => ['POST /sg/pisp/payment-requests HTTP/1.1', 'Host: gateway.test', `Authorization: Bearer ${DEV_KEY}`, 'X-Connection-Id: sg-bounded', `PSU-IP-Address: ${PSU_IP}`, 'Content-Type: application/json', ...extra];

  describe.each(framings)('%s framing', (framing) => {
    it.each([
      ['a bank call', 'GET /seb/ais/accounts HTTP/1.1'],
      ['the connection API', 'GET /connections/nope HTTP/1.1'],
    ])('two Authorization headers on %s: 401 repeated, even when both are the valid key', async (_name, line) => {
      const twice = await rawRequest(ports[framing], [line, 'Host: gateway.test', `Authorization: Bearer ${DEV_KEY}`, `Authorization: Bearer ${DEV_KEY}`, `PSU-IP-Address: ${PSU_IP}`, 'X-Connection-Id: nope', 'Connection: close']);
      expect(twice.status).toBe(401);
      expect(JSON.parse(twice.body)).toMatchObject({ code: 'unauthorized', reason: 'repeated' });
      const once = await rawRequest(ports[framing], [line, 'Host: gateway.test', `Authorization: Bearer ${DEV_KEY}`, `PSU-IP-Address: ${PSU_IP}`, 'X-Connection-Id: nope', 'Connection: close']);
      expect(once.status).toBe(404);
    });

    it('a body under the limit goes through (201 from the bank)', async () => {
      const answer = await rawRequest(ports[framing], paymentHead([`Content-Length: ${Buffer.byteLength(payment)}`, 'Connection: close']), [payment]);
      expect(answer.status).toBe(201);
    });

    it('a Content-Length over the limit: 413 before the body is sent (400 MiB declared, 1 KiB sent)', async () => {
      const answer = await rawRequest(ports[framing], paymentHead([`Content-Length: ${400 * 1024 * 1024}`]), ['x'.repeat(1024)]);
      expect(answer.status).toBe(413);
      expect(JSON.parse(answer.body)).toMatchObject({ code: 'payload_too_large', maxBytes: SG_LIMIT });
    });

    it('a chunked body past the limit: 413 while the client still sends (the body never ends)', async () => {
      const chunk = 'x'.repeat(16 * 1024);
      const chunks = Array.from({ length: SG_LIMIT / chunk.length + 2 }, () => `${chunk.length.toString(16)}\r\n${chunk}\r\n`);
      const answer = await rawRequest(ports[framing], paymentHead(['Transfer-Encoding: chunked']), chunks);
      expect(answer.status).toBe(413);
      expect(JSON.parse(answer.body)).toMatchObject({ code: 'payload_too_large' });
    });

    it('an operation with its own limit (apis.<api>.requestBodyLimits): 413 naming it past it, the bank limit elsewhere', async () => {
      const head = ['POST /sg/cbpii/funds-confirmations HTTP/1.1', 'Host: gateway.test', `Authorization: Bearer ${DEV_KEY}`, 'X-Connection-Id: sg-bounded', 'Content-Type: application/json', 'Connection: close'];
      const body = JSON.stringify({ paymentCoverageRequestId: 'x'.repeat(FUNDS_LIMIT) });
      const over = await rawRequest(ports[framing], [...head, `Content-Length: ${Buffer.byteLength(body)}`], [body]);
      expect(over.status).toBe(413);
      expect(JSON.parse(over.body)).toMatchObject({ code: 'payload_too_large', maxBytes: FUNDS_LIMIT });
      // The payment operation of the same bank keeps the bank's limit: a body past FUNDS_LIMIT goes through.
      const padded = JSON.stringify(SG_PAYMENT).padEnd(FUNDS_LIMIT * 2, ' '); // trailing whitespace: still the same JSON
      const payment = await rawRequest(ports[framing], paymentHead([`Content-Length: ${Buffer.byteLength(padded)}`, 'Connection: close']), [padded]);
      expect(payment.status).toBe(201);
    });

    it('POST /connections: a body over 64 KiB is refused with 413, declared or chunked', async () => {
      const head = ['POST /connections HTTP/1.1', 'Host: gateway.test', `Authorization: Bearer ${DEV_KEY}`, 'Content-Type: application/json'];
      const declared = await rawRequest(ports[framing], [...head, `Content-Length: ${400 * 1024 * 1024}`], ['{"bank":"seb",']);
      expect(declared.status).toBe(413);
      const chunk = 'x'.repeat(16 * 1024);
      const chunked = await rawRequest(ports[framing], [...head, 'Transfer-Encoding: chunked'], Array.from({ length: 6 }, () => `${chunk.length.toString(16)}\r\n${chunk}\r\n`));
      expect(chunked.status).toBe(413);
      expect(JSON.parse(chunked.body)).toMatchObject({ code: 'payload_too_large' });
    });
  });
});
