import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PSU_IP, startHarness, type Harness } from '../e2e/harness.js';

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** A strict reader of the Prometheus text format 0.0.4: every line is a comment or a well-formed sample. */
function parsePrometheus(text: string): { samples: Sample[]; types: Map<string, string> } {
  const samples: Sample[] = [];
  const types = new Map<string, string>();
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const type = /^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge|histogram|summary|untyped)$/.exec(line);
    if (type) {
      types.set(type[1]!, type[2]!);
      continue;
    }
    if (/^# HELP [a-zA-Z_:][a-zA-Z0-9_:]* .*$/.test(line)) continue;
    const sample = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (-?[0-9.e+-]+|\+Inf|NaN)$/.exec(line);
    if (!sample) throw new Error(`not Prometheus text: ${line}`);
    const labels: Record<string, string> = {};
    for (const m of (sample[3] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[m[1]!] = m[2]!;
    samples.push({ name: sample[1]!, labels, value: Number(sample[4]) });
  }
  return { samples, types };
}

describe('GET /metrics', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
    await h.connect('seb', 'm-seb');
  });
  afterAll(() => h?.close());

  it('parses as Prometheus text and counts a known sequence of calls exactly', async () => {
    const psu = { 'x-connection-id': 'm-seb', 'psu-ip-address': PSU_IP };
    for (let i = 0; i < 3; i++) expect((await h.call('/seb/ais/accounts', { headers: psu })).status).toBe(200);
    expect((await h.call('/seb/ais/accounts?withBalance=x', { headers: psu })).status).toBe(400);
    expect((await h.call('/seb/ais/accounts/nope/balances', { headers: psu })).status).toBe(404);

    const response = await fetch(`${h.url}/metrics`);
    expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const { samples, types } = parsePrometheus(await response.text());
    const count = (operation: string, status: string) => samples.find((s) => s.name === 'bankgate_requests_total' && s.labels.operation === operation && s.labels.status === status && s.labels.bank === 'seb' && s.labels.api === 'ais')?.value;
    expect(types.get('bankgate_requests_total')).toBe('counter');
    expect(count('getAccountList', '200')).toBe(3);
    expect(count('getAccountList', '400')).toBe(1);
    expect(count('getBalances', '404')).toBe(1);
    expect(types.get('bankgate_request_duration_seconds')).toBe('histogram');
    const latency = samples.find((s) => s.name === 'bankgate_request_duration_seconds_count' && s.labels.operation === 'getAccountList');
    expect(latency?.value).toBe(4);
    expect(samples.some((s) => s.name === 'bankgate_token_refresh_total' || s.name.startsWith('bankgate_client_certificate'))).toBe(true);
  });
});
