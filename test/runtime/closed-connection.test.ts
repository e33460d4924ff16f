import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runtimeBinary } from '../../../test/runtime/runtime-process.js';
import { createTestPki, startUpstream, type TestPki, type Upstream } from '../node/transport/upstream.fixture.js';

// soak-103 on Deno: rustls reports any connection dropped without close_notify alike. A dropped token call
// is bank_unreachable (ERR_BANKGATE_CONNECTION_CLOSED); a refused certificate stays a refused handshake.
let pki: TestPki;
let bank: Upstream;
let dir: string;

beforeAll(async () => {
  pki = await createTestPki();
  // What sandbox/token-faults.ts does for `close`: the request is read, then the socket destroyed.
  bank = await startUpstream({ cert: pki.server.certPem, key: pki.server.keyPem, ca: pki.caPem }, (request, res) =>
    request.url === '/token' ? request.raw.socket.destroy() : res.end('ok'),
  );
  dir = mkdtempSync(join(tmpdir(), 'bankgate-deno-close-'));
});
afterAll(async () => {
  await bank.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('Deno transport: a connection dropped without an alert', () => {
  it('token endpoint closes after reading the request → ERR_BANKGATE_CONNECTION_CLOSED; untrusted certificate → handshake rejected', async () => {
    const file = join(dir, 'input.json');
    writeFileSync(
      file,
      JSON.stringify({
        caPem: pki.caPem,
        identities: { trusted: pki.client, untrusted: pki.untrustedClient },
        calls: [
          { identity: 'trusted', url: `${bank.origin}/token` },
          { identity: 'trusted', url: `${bank.origin}/token` },
          { identity: 'untrusted', url: `${bank.origin}/token` },
          { identity: 'trusted', url: `${bank.origin}/other` },
        ],
      }),
    );
    const { stdout } = await promisify(execFile)(runtimeBinary('deno'), ['run', '--allow-all', '--sloppy-imports', 'test/runtime/probe/deno-close-probe.ts', file], {
      timeout: 60_000,
    });
    const line = stdout.split('\n').find((l) => l.startsWith('probe '));
    expect(JSON.parse(line!.slice('probe '.length))).toEqual([
      'ERR_BANKGATE_CONNECTION_CLOSED',
      'ERR_BANKGATE_CONNECTION_CLOSED',
      'ERR_BANKGATE_TLS_HANDSHAKE_REJECTED',
      'ok',
    ]);
    expect(bank.received.filter((r) => r.url === '/token')).toHaveLength(2);
  }, 90_000);
});
