/**
 * Property test of the path guard and the route table (issue 15, item 6), asserted where it matters: at the
 * sandbox banks, which record every request they receive as they received it. Random request targets (real
 * route templates with odd parameter values, dot segments in every spelling, percent-encodings of random
 * bytes, overlong UTF-8, raw unicode, overlong segments, encoded separators) are written raw on a socket to
 * a real gateway (the Node fast path) holding live SG and SEB connections. Whatever the gateway answers,
 * every request a bank received must be a declared operation of that bank: its method and a path made of
 * the API's base path and a route template whose literals match exactly and whose parameters are single,
 * non-empty, non-dot segments (enum values where the spec lists them). And no answer is a 500.
 */
import { connect } from 'node:net';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ResolvedConfig } from '../../plugin/config/resolve-config.js';
import { DEV_KEY, startVaultHarness, type VaultHarness } from '../vault/vault-harness.js';

const CONNECTIONS = { sg: 'prop-sg', seb: 'prop-seb' } as const;
const PSU_HEADERS = 'PSU-IP-Address: 192.0.2.10\r\n';

/** Writes one raw request (the target as UTF-8 bytes, untouched) and returns the answer's status (0: the server hung up). */
function rawRequest(port: number, method: string, target: string, connectionId: string): Promise<number> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    let answer = '';
    socket.setTimeout(20_000, () => socket.destroy());
    socket.on('data', (chunk) => (answer += chunk.toString('latin1')));
    socket.on('close', () => resolve(Number(/^HTTP\/1\.1 (\d{3})/.exec(answer)?.[1] ?? 0)));
    socket.on('error', () => {});
    socket.write(
      Buffer.concat([
        Buffer.from(`${method} `),
        Buffer.from(target, 'utf8'),
        Buffer.from(` HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${DEV_KEY}\r\nX-Connection-Id: ${connectionId}\r\n${PSU_HEADERS}Content-Length: 0\r\nConnection: close\r\n\r\n`),
      ]),
    );
  });
}

interface Declared {
  readonly method: string;
  readonly base: string;
  readonly template: readonly (string | { enum?: readonly string[] })[];
}

/** Every declared operation of every bank, from the manifests the gateway mounted. */
function declaredOperations(config: ResolvedConfig): Map<string, Declared[]> {
  const byBank = new Map<string, Declared[]>();
  for (const bank of config.banks.values()) {
    const list: Declared[] = [];
    for (const api of bank.apis.values()) {
      for (const route of api.manifest.routes) {
        const template = route.path
          .split('/')
          .slice(1)
          .map((part) => {
            const param = /^\{(.+)\}$/.exec(part)?.[1];
            if (param === undefined) return part;
            const values = route.params.path.find((p) => p.name === param)?.enum;
            return values ? { enum: values } : {};
          });
        list.push({ method: route.method.toUpperCase(), base: api.baseUrl.pathname.replace(/\/$/, ''), template });
      }
    }
    byBank.set(bank.name, list);
  }
  return byBank;
}

/** True when `method path` (as the bank received it) is one of `operations`. */
function isDeclared(operations: readonly Declared[], method: string, target: string): boolean {
  const path = target.split('?')[0]!;
  return operations.some((op) => {
    if (op.method !== method || !path.startsWith(`${op.base}/`)) return false;
    const parts = path.slice(op.base.length).split('/').slice(1);
    if (parts.length !== op.template.length) return false;
    return op.template.every((expected, i) => {
      const part = parts[i]!;
      if (typeof expected === 'string') return part === expected;
      let decoded: string;
      try {
        decoded = decodeURIComponent(part);
      } catch {
        return false;
      }
      // eslint-disable-next-line no-control-regex
      if (decoded === '' || decoded === '.' || decoded === '..' || /[/\\\u0000-\u001f\u007f]/.test(decoded)) return false;
      return expected.enum === undefined || expected.enum.includes(decoded);
    });
  });
}

const DOTS = ['.', '..', '%2e', '%2E', '%2e%2e', '.%2e', '%2e.', '%2E%2e', '%252e%252e', '%c0%ae', '%c0%ae%c0%ae', '%e0%80%ae', '..;', '...', '.%00.', '%2e%2e%2f'];
const SEPARATORS = ['%2f', '%2F', '%5c', '%5C', '\\', '%00', '%c0%af', '%e0%80%af', '%252f', ';', '%3b', '..%2f..', '%2f%2e%2e'];

/** A path segment an attacker (or a fuzzer) might send. */
function segment(literals: readonly string[]): fc.Arbitrary<string> {
  return fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom(...literals) },
    { weight: 2, arbitrary: fc.constantFrom(...DOTS) },
    { weight: 2, arbitrary: fc.constantFrom(...SEPARATORS) },
    { weight: 2, arbitrary: fc.uint8Array({ minLength: 1, maxLength: 6 }).map((bytes) => [...bytes].map((b) => `%${b.toString(16).padStart(2, '0')}`).join('')) },
    { weight: 2, arbitrary: fc.string({ unit: 'grapheme', minLength: 1, maxLength: 8 }).map((text) => text.replace(/[\s?#]/g, 'x')) },
    { weight: 1, arbitrary: fc.string({ unit: 'grapheme', minLength: 1, maxLength: 8 }).map((text) => encodeURIComponent(text)) },
    { weight: 1, arbitrary: fc.integer({ min: 200, max: 9000 }).map((n) => 'a'.repeat(n)) },
    { weight: 1, arbitrary: fc.constant('') },
    { weight: 2, arbitrary: fc.stringMatching(/^[A-Za-z0-9._~-]{1,12}$/) },
  );
}

describe('no request reaches a bank path that is not a declared operation (property, at the sandbox)', () => {
  let h: VaultHarness;
  let port: number;
  let operations: Map<string, Declared[]>;
  let templates: { bank: 'sg' | 'seb'; prefix: string; method: string; parts: string[] }[];
  let literals: string[];
  beforeAll(async () => {
    h = await startVaultHarness();
    await h.connect('sg', CONNECTIONS.sg);
    await h.connect('seb', CONNECTIONS.seb);
    port = Number(new URL(h.url).port);
    operations = declaredOperations(h.gateway.config);
    templates = [];
    const words = new Set<string>();
    for (const bankName of ['sg', 'seb'] as const) {
      for (const api of h.gateway.config.banks.get(bankName)!.apis.values()) {
        words.add(api.name);
        for (const route of api.manifest.routes) {
          const parts = route.path.split('/').slice(1);
          parts.forEach((part) => !part.startsWith('{') && words.add(part));
          templates.push({ bank: bankName, prefix: `/${bankName}/${api.name}`, method: route.method.toUpperCase(), parts });
        }
      }
    }
    literals = [...words, 'sg', 'seb', 'connections', 'openapi.json'];
  }, 60_000);
  afterAll(() => h?.close());

  it('random targets: every request the banks received is declared, and no answer is a 500', async () => {
    let reached = 0;
    let sent = 0;
    // A declared route, its parameters (or, now and then, any segment or the method) replaced by fuzz.
    const declared = fc
      .record({
        which: fc.nat(),
        fill: fc.array(fc.oneof({ weight: 3, arbitrary: fc.stringMatching(/^[A-Za-z0-9-]{1,24}$/) }, { weight: 2, arbitrary: segment(['accounts', 'x', 'EUR']) }), { minLength: 8, maxLength: 8 }),
        mutate: fc.array(fc.nat(5).map((n) => n === 0), { minLength: 8, maxLength: 8 }),
        method: fc.constantFrom('GET', 'GET', 'POST', 'DELETE', 'PUT'),
        trailing: fc.oneof({ weight: 6, arbitrary: fc.constant('') }, { weight: 1, arbitrary: fc.constantFrom('/', '?x=1', '/..', '/%2e%2e', '/.', '%2f..', ';x') }),
      }).map(({ which, fill, mutate, method, trailing }) => {
        // Mostly the read operations (a call without a body gets through to the bank), any operation now and then.
        const reads = templates.filter((t) => t.method === 'GET');
        const t = which % 4 === 0 ? templates[which % templates.length]! : reads[which % reads.length]!;
        const parts = t.parts.map((part, i) => (part.startsWith('{') || mutate[i] ? fill[i]! : part));
        return { bank: t.bank, method: mutate[7] ? method : t.method, target: `${t.prefix}/${parts.join('/')}${trailing}` };
      });
    // Anything under a bank.
    const anything = fc
      .record({
        bank: fc.constantFrom('sg' as const, 'seb' as const),
        parts: fc.array(segment(literals), { minLength: 0, maxLength: 7 }),
        method: fc.constantFrom('GET', 'POST', 'DELETE'),
      })
      .map(({ bank, parts, method }) => ({ bank, method, target: `/${bank}/${parts.join('/')}` }));
    const request = fc.oneof({ weight: 3, arbitrary: declared }, { weight: 1, arbitrary: anything });
    await fc.assert(
      fc.asyncProperty(fc.array(request, { minLength: 1, maxLength: 12 }), async (batch) => {
        await h.resetStats();
        for (const { bank, method, target } of batch) {
          const status = await rawRequest(port, method, target, CONNECTIONS[bank]);
          sent++;
          expect(status, `${method} ${target.slice(0, 200)}`).not.toBe(500);
        }
        const received = (await (await fetch(`${h.sandbox.controlUrl}/requests`)).json()) as { bank: string; method: string; path: string }[];
        reached += received.length;
        for (const r of received) expect(isDeclared(operations.get(r.bank) ?? [], r.method, r.path), `${r.bank} received ${r.method} ${r.path.slice(0, 200)}`).toBe(true);
      }),
      { numRuns: 60, seed: Number(process.env.BANKGATE_PROPERTY_SEED ?? Date.now() % 2 ** 31) },
    );
    // Not vacuous: a good share of the random requests did reach a bank (declared routes with fuzzed values).
    expect(sent).toBeGreaterThan(100);
    expect(reached).toBeGreaterThan(sent / 10);
  }, 240_000);

  it('the checker itself refuses what a bank must never receive', () => {
    const sg = operations.get('sg')!;
    const { base } = sg.find((op) => op.template.length >= 2)!;
    expect(isDeclared(sg, 'GET', `${base}/accounts`)).toBe(true);
    expect(isDeclared(sg, 'GET', `${base}/accounts/..`)).toBe(false);
    expect(isDeclared(sg, 'GET', `${base}/../accounts`)).toBe(false);
    expect(isDeclared(sg, 'GET', `${base}/nope`)).toBe(false);
    expect(isDeclared(sg, 'TRACE', `${base}/accounts`)).toBe(false);
  });
});
