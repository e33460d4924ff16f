import { existsSync, mkdirSync, statSync } from 'node:fs';
import { Validator } from '@seriousme/openapi-schema-validator';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from '../e2e/harness.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const BANKS = ['seb', 'sg', 'bg', 'ukob'];

describe('the reference of the surface, every sandbox bank mounted', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({});
  });
  afterAll(() => h?.close());

  it('/openapi.json is one OpenAPI 3.1 document of every bank that passes an OpenAPI validator', async () => {
    const document = (await (await fetch(`${h.url}/openapi.json`)).json()) as { openapi: string; paths: Record<string, unknown> };
    const result = await new Validator().validate(document as never);
    expect(result.errors ?? []).toEqual([]);
    expect(document.openapi).toBe('3.1.0');
    expect(Object.keys(document.paths)).toEqual(expect.arrayContaining(['/seb/ais/accounts', '/sg/pisp/payment-requests', '/bg/xs2a/v1/consents', '/ukob/aisp/accounts']));
  });

  it('/openapi/{bank}.json is the consent API and that bank alone, valid OpenAPI 3.1', async () => {
    for (const bank of BANKS) {
      const document = (await (await fetch(`${h.url}/openapi/${bank}.json`)).json()) as { info: { title: string }; paths: Record<string, unknown> };
      const result = await new Validator().validate(document as never);
      expect(result.errors ?? [], bank).toEqual([]);
      const paths = Object.keys(document.paths);
      expect(paths, bank).toEqual(expect.arrayContaining(['/connections', '/connections/{connectionId}', expect.stringMatching(new RegExp(`^/${bank}/`))]));
      // The gateway's own paths (the consent API) and this bank's; no other bank's.
      expect(paths.filter((path) => BANKS.some((other) => other !== bank && path.startsWith(`/${other}/`))), bank).toEqual([]);
      expect(document.info.title).toContain(h.gateway.config.banks.get(bank)!.displayName);
    }
    const unknown = await fetch(`${h.url}/openapi/nobank.json`);
    expect(unknown.status).toBe(404);
    const problem = (await unknown.json()) as { code: string; detail: string };
    expect(problem.code).toBe('route_not_found');
    expect(problem.detail).toContain('/openapi/ukob.json');
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

    /** Opens the reference (on one bank's document when `api` is given) and answers the page's text and the documents it fetched. */
    const open = async (query: string, shows: string) => {
      const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
      const failed: string[] = [];
      const documents: string[] = [];
      page.on('requestfailed', (request) => failed.push(request.url()));
      page.on('request', (request) => void (new URL(request.url()).pathname.startsWith('/openapi') && documents.push(new URL(request.url()).pathname)));
      await page.goto(`${h.url}/docs${query}`, { waitUntil: 'load' });
      await page.getByText(shows).first().waitFor({ timeout: 30_000 });
      const text = await page.locator('body').innerText();
      expect(failed.filter((url) => url.startsWith(h.url))).toEqual([]);
      return { page, text, documents };
    };

    it('loads the first bank only, shows its operations, and is captured in a screenshot', async () => {
      const { page, text, documents } = await open('', "List the PSU's payment accounts");
      // The other banks' documents are fetched when picked, not before.
      expect(documents).toEqual(['/openapi/seb.json']);
      for (const group of ['seb/ais', 'seb/pis', 'connections']) expect(text).toContain(group);
      // Scalar's hosted AI agent would send the documents out of the network the gateway runs in.
      expect(text).not.toContain('Ask AI');
      for (const operation of ["List the PSU's payment accounts", 'Initiate a payment']) expect(text).toContain(operation);
      await page.getByText('/seb/ais/accounts').first().waitFor({ timeout: 30_000 });
      mkdirSync('.cache/screenshots', { recursive: true });
      await page.screenshot({ path: '.cache/screenshots/docs.png', fullPage: false });
      expect(statSync('.cache/screenshots/docs.png').size).toBeGreaterThan(10_000);
      await page.close();
    });

    it('renders each other bank, UK Open Banking and Berlin Group included, from its own document', async () => {
      const shown = { sg: 'Retrieval of the PSU accounts', bg: 'Create consent', ukob: 'Get Accounts' } as const;
      for (const [bank, operation] of Object.entries(shown)) {
        const { page, text, documents } = await open(`?api=${bank}`, operation);
        expect(documents, bank).toEqual([`/openapi/${bank}.json`]);
        expect(text, bank).toContain(`${bank}/`);
        await page.close();
      }
    });
  });
});
