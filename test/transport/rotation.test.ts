/**
 * Hot rotation of the QWAC under load, through the gateway, against the SEB-like sandbox bank (whose tokens
 * are not certificate-bound): the files are replaced on disk while concurrent calls run; no call fails, and
 * calls made after the swap present the new certificate, as the bank reports it.
 */
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createJsonLogger } from '../../plugin/adapter/node/log.js';
import { certificateThumbprint } from '../../sandbox/pki.js';
import { startHarness, type Harness } from '../e2e/harness.js';

const HEADERS = { 'x-connection-id': 'rotation', 'psu-ip-address': '203.0.113.7' };
const CONCURRENCY = 8;

describe('certificate rotation under load', () => {
  let h: Harness;
  let dir: string;
  let original: { cert: string; key: string };
  let next: { cert: string; key: string };
  const logs: Array<{ event: string; [field: string]: unknown }> = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'bankgate-rotation-'));
    h = await startHarness({
      log: createJsonLogger((line) => logs.push(JSON.parse(line))),
      adjust: (config, sandbox) => {
        original = { cert: readFileSync(sandbox.banks.seb.mtls.certFile, 'utf8'), key: readFileSync(sandbox.banks.seb.mtls.keyFile, 'utf8') };
        next = { cert: readFileSync(sandbox.banks.seb.nextMtls!.certFile, 'utf8'), key: readFileSync(sandbox.banks.seb.nextMtls!.keyFile, 'utf8') };
        // Layout 1 (flat files, replaced by rename) for the first swap; layout 2 (a symlinked directory) below.
        writeFileSync(join(dir, 'qwac.pem'), original.cert);
        writeFileSync(join(dir, 'qwac-key.pem'), original.key, { mode: 0o600 });
        config.banks.seb!.mtls = { ...config.banks.seb!.mtls, cert: { file: join(dir, 'qwac.pem') }, key: { file: join(dir, 'qwac-key.pem') }, reloadDebounceMs: 100 };
      },
    });
    await h.connect('seb', 'rotation');
  });
  afterAll(async () => {
    await h?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Runs CONCURRENCY call loops until `during` resolves; returns every status seen. */
  async function underLoad(during: () => Promise<void>): Promise<number[]> {
    const statuses: number[] = [];
    let running = true;
    const loops = Array.from({ length: CONCURRENCY }, async () => {
      while (running) {
        const response = await h.call('/seb/ais/accounts', { headers: HEADERS });
        await response.arrayBuffer();
        statuses.push(response.status);
      }
    });
    try {
      await during();
    } finally {
      running = false;
      await Promise.all(loops);
    }
    return statuses;
  }

  async function waitForThumbprint(thumbprint: string): Promise<void> {
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline) {
      if ((await h.bankRequests('seb')).some((r) => r.clientCertThumbprint === thumbprint)) return;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    throw new Error(`the bank never saw certificate ${thumbprint}`);
  }

  async function sequentialCallsPresent(thumbprint: string): Promise<void> {
    await h.resetStats();
    for (let i = 0; i < 5; i++) expect((await h.call('/seb/ais/accounts', { headers: HEADERS })).status).toBe(200);
    const seen = (await h.bankRequests('seb')).map((r) => r.clientCertThumbprint);
    expect(seen).toEqual(Array(5).fill(thumbprint));
  }

  it('atomic rename: zero failed calls, and later calls present the new certificate', async () => {
    const before = certificateThumbprint(original.cert);
    const after = certificateThumbprint(next.cert);
    expect(after).not.toBe(before);
    await h.resetStats();
    const statuses = await underLoad(async () => {
      await new Promise((resolve) => setTimeout(resolve, 300));
      writeFileSync(join(dir, '.qwac.pem.tmp'), next.cert);
      writeFileSync(join(dir, '.qwac-key.pem.tmp'), next.key, { mode: 0o600 });
      renameSync(join(dir, '.qwac.pem.tmp'), join(dir, 'qwac.pem'));
      renameSync(join(dir, '.qwac-key.pem.tmp'), join(dir, 'qwac-key.pem'));
      await waitForThumbprint(after);
      await new Promise((resolve) => setTimeout(resolve, 300));
    });
    expect(statuses.length).toBeGreaterThan(20);
    expect(statuses.filter((s) => s !== 200)).toEqual([]);
    await sequentialCallsPresent(after);
    expect(logs).toContainEqual(expect.objectContaining({ level: 'info', event: 'bank.certificate.rotated', bank: 'seb', from: before, to: after }));
  });

  it('symlink swap (a versioned directory behind a symlink, as Kubernetes does): the same', async () => {
    // Move to layout 2 on the fly: <dir>/live -> v1 holding the current pair, config files behind symlinks.
    const live = join(dir, 'k8s');
    mkdirSync(join(live, 'v1'), { recursive: true });
    mkdirSync(join(live, 'v2'), { recursive: true });
    copyFileSync(join(dir, 'qwac.pem'), join(live, 'v1', 'qwac.pem'));
    copyFileSync(join(dir, 'qwac-key.pem'), join(live, 'v1', 'qwac-key.pem'));
    writeFileSync(join(live, 'v2', 'qwac.pem'), original.cert);
    writeFileSync(join(live, 'v2', 'qwac-key.pem'), original.key, { mode: 0o600 });
    symlinkSync('v1', join(live, '..data'));
    // Replace the flat files by symlinks into ..data (each an atomic rename): same certificate, no rotation.
    for (const name of ['qwac.pem', 'qwac-key.pem']) {
      symlinkSync(join(live, '..data', name), join(dir, `.${name}.link`));
      renameSync(join(dir, `.${name}.link`), join(dir, name));
    }
    await new Promise((resolve) => setTimeout(resolve, 300));
    const current = certificateThumbprint(next.cert);
    const back = certificateThumbprint(original.cert);
    await sequentialCallsPresent(current);

    await h.resetStats();
    const statuses = await underLoad(async () => {
      await new Promise((resolve) => setTimeout(resolve, 300));
      // The swap: one rename of the ..data symlink switches certificate and key together.
      symlinkSync('v2', join(live, '..data.new'));
      renameSync(join(live, '..data.new'), join(live, '..data'));
      await waitForThumbprint(back);
      await new Promise((resolve) => setTimeout(resolve, 300));
    });
    expect(statuses.filter((s) => s !== 200)).toEqual([]);
    await sequentialCallsPresent(back);
  });

  it('an invalid new file keeps the current certificate', async () => {
    const current = certificateThumbprint(original.cert);
    const live = join(dir, 'k8s');
    mkdirSync(join(live, 'v3'));
    writeFileSync(join(live, 'v3', 'qwac.pem'), next.cert);
    // The wrong key for that certificate: refused, logged, and the current identity stays.
    writeFileSync(join(live, 'v3', 'qwac-key.pem'), original.key, { mode: 0o600 });
    symlinkSync('v3', join(live, '..data.new'));
    renameSync(join(live, '..data.new'), join(live, '..data'));
    await new Promise((resolve) => setTimeout(resolve, 600));
    await sequentialCallsPresent(current);
    expect(logs).toContainEqual(
      expect.objectContaining({ level: 'error', event: 'bank.certificate.rotation_failed', bank: 'seb', keeping: current, problem: 'banks.seb.mtls.key: does not belong to the certificate in cert' }),
    );
  });
});
