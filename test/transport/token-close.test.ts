/**
 * soak-103, reproduced small: the sandbox's token fault `close` (sandbox/token-faults.ts: the SG token
 * endpoint reads the refresh request, then destroys the socket) against the Node transport presenting the
 * gateway's own certificate. Every such call is `bank_unreachable` (an unknown outcome for a refresh), never
 * `bank_tls_error`: the certificate is fine, and a diagnostic handshake shows it.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createNodeTransport } from '../../plugin/adapter/node/transport/node-transport.js';
import { BankgateError } from '../../plugin/errors/bankgate-error.js';
import { classifyAttemptFailure } from '../../plugin/tokens/refresh-outcome.js';
import { startSandbox, type RunningSandbox } from '../../sandbox/index.js';
import { armFaults, clearFaults } from './sandbox-faults.js';

let sandbox: RunningSandbox;
let dir: string;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'bankgate-token-close-'));
  sandbox = await startSandbox({ dir, writeFile: false });
});
afterAll(async () => {
  await sandbox?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('the SG token endpoint closes the connection (token fault close)', () => {
  it('five refreshes in a row, each on a fresh connection → bank_unreachable every time, never bank_tls_error', async () => {
    const sg = sandbox.file.banks.sg;
    const tokenEndpoint = sg.authorizationServer.mtlsTokenEndpoint ?? sg.authorizationServer.tokenEndpoint;
    const transport = createNodeTransport({
      bank: 'sg',
      tls: { ca: readFileSync(sandbox.file.caFile, 'utf8'), cert: readFileSync(sg.mtls.certFile, 'utf8'), key: readFileSync(sg.mtls.keyFile, 'utf8') },
    });
    const times = 5;
    await armFaults(sandbox.file, [{ bank: 'sg', target: 'token', action: 'close', grantType: 'refresh_token', times } as unknown as Parameters<typeof armFaults>[1][number]]);
    try {
      const codes: string[] = [];
      for (let i = 0; i < times; i++) {
        const error = await transport
          .fetch(tokenEndpoint, {
            method: 'POST',
            headers: { 'content-type': 'application/x-www-form-urlencoded' },
            body: `grant_type=refresh_token&refresh_token=r${i}&client_id=${sg.client.clientId}`,
          })
          .then(
            () => undefined,
            (e: unknown) => e,
          );
        expect(error).toBeInstanceOf(BankgateError);
        expect(classifyAttemptFailure(error)).toBe('unknown');
        codes.push((error as BankgateError).code);
      }
      expect(codes).toEqual(Array(times).fill('bank_unreachable'));
    } finally {
      await clearFaults(sandbox.file);
      await transport.close();
    }
  });
});
