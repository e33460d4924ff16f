import { existsSync, mkdirSync, statSync } from 'node:fs';
import { Validator } from '@seriousme/openapi-schema-validator';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from '../e2e/harness.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

describe('the reference of the surface', () => {
  let h: Harness;
  beforeAll(async () => {
    // Without bg and ukob: the Berlin Group document (≈0.5 MB of schemas), or the four UK Open Banking specs, make
    // Scalar take 30–40 s to render on a loaded 2-core machine; this test is about the page working with seb and sg.
    h = await startHarness({ adjust: (config) => void ['bg', 'ukob'].forEach((bank) => delete (config.banks as Record<string, unknown>)[bank]) });
  });
  afterAll(() => h?.close());

  it('/openapi.json is one OpenAPI 3.1 document of both banks that passes an OpenAPI validator', async () => {
    const document = (await (await fetch(`${h.url}/openapi.json`)).json()) as { openapi: string; paths: Record<string, unknown> };
    const result = await new Validator().validate(document as never);
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
    expect(document.openapi).toBe('3.1.0');
    expect(Object.keys(document.paths)).toEqual(expect.arrayContaining(['/seb/ais/accounts', '/seb/pis/payments/{payment-product}', '/sg/aisp/accounts', '/sg/pisp/payment-requests', '/sg/cbpii/funds-confirmations']));
  });

  describe('/docs in headless Chromium', () => {
    let browser: Browser;
    beforeAll(async () => {
      if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} not found: npm test installs Debian's chromium (scripts/ensure-test-deps.mjs), or set CHROMIUM_PATH`);
      browser = await chromium.launch({
        executablePath: CHROMIUM,
        args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
      });
    });
    afterAll(() => browser?.close());

    it('loads, shows the operations of both banks, and is captured in a screenshot', async () => {
      const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
      const failed: string[] = [];
      page.on('requestfailed', (request) => failed.push(request.url()));
      await page.goto(`${h.url}/docs`, { waitUntil: 'load' });
      await page.getByText('List the PSU\'s payment accounts').first().waitFor({ timeout: 30_000 });
      const text = await page.locator('body').innerText();
      for (const group of ['seb/ais', 'seb/pis', 'sg/aisp', 'sg/pisp', 'sg/cbpii']) expect(text).toContain(group);
      for (const operation of ["List the PSU's payment accounts", 'Initiate a payment', 'Retrieval of the PSU accounts', 'Payment request initiation', 'Payment coverage check request']) {
        expect(text).toContain(operation);
      }
      await page.getByText('Download OpenAPI Document').first().waitFor({ timeout: 30_000 });
      await page.getByText('/seb/ais/accounts').first().waitFor({ timeout: 30_000 });
      mkdirSync('.cache/screenshots', { recursive: true });
      await page.screenshot({ path: '.cache/screenshots/docs.png', fullPage: false });
      expect(statSync('.cache/screenshots/docs.png').size).toBeGreaterThan(10_000);
      expect(failed.filter((url) => url.startsWith(h.url))).toEqual([]);
    });
  });
});
