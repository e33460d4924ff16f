import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEV_KEY, PSU_IP, startHarness, type Harness } from '../e2e/harness.js';

describe('OpenTelemetry spans (@hono/otel)', () => {
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ gateway: { tracerProvider: provider } });
    await h.connect('seb', 't-seb');
  });
  afterAll(() => h?.close());

  it('names a bank call by its gateway route and never records a header value', async () => {
    exporter.reset();
    expect((await h.call('/seb/ais/accounts', { headers: { 'x-connection-id': 't-seb', 'psu-ip-address': PSU_IP } })).status).toBe(200);
    const span = exporter.getFinishedSpans().find((s) => s.name === 'GET /seb/ais/accounts');
    expect(span).toBeDefined();
    expect(span!.attributes).toMatchObject({ 'http.route': '/seb/ais/accounts', 'bankgate.bank': 'seb', 'bankgate.api': 'ais', 'bankgate.operation': 'getAccountList' });
    const recorded = JSON.stringify(exporter.getFinishedSpans().map((s) => s.attributes));
    expect(recorded).not.toContain(DEV_KEY);
    expect(recorded).not.toContain(PSU_IP);
  });

  it('the consent callback span holds the path only, never the OAuth code or state', async () => {
    exporter.reset();
    await h.connect('seb', 't-seb-2');
    const callback = exporter.getFinishedSpans().find((s) => s.attributes['url.path'] === '/callback/seb');
    expect(callback).toBeDefined();
    expect(JSON.stringify(exporter.getFinishedSpans().map((s) => [s.name, s.attributes]))).not.toMatch(/code=|state=|iss=/);
  });
});
