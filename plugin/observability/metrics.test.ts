import { describe, expect, it } from 'vitest';
import { MetricsRegistry } from './metrics.js';

describe('MetricsRegistry', () => {
  it('renders counters, gauges and histograms in Prometheus text format', () => {
    const m = new MetricsRegistry();
    m.describe('bankgate_requests_total', 'counter', 'Requests.');
    m.inc('bankgate_requests_total', { bank: 'seb', status: '200' });
    m.inc('bankgate_requests_total', { status: '200', bank: 'seb' });
    m.set('bankgate_cert_days', { bank: 'sg' }, 12.5);
    m.describe('bankgate_latency_seconds', 'histogram', 'Latency.', [0.1, 1]);
    m.observe('bankgate_latency_seconds', { bank: 'seb' }, 0.05);
    m.observe('bankgate_latency_seconds', { bank: 'seb' }, 2);
    const text = m.render();
    expect(text).toContain('# TYPE bankgate_requests_total counter\nbankgate_requests_total{bank="seb",status="200"} 2');
    expect(text).toContain('bankgate_cert_days{bank="sg"} 12.5');
    expect(text).toContain('bankgate_latency_seconds_bucket{bank="seb",le="0.1"} 1');
    expect(text).toContain('bankgate_latency_seconds_bucket{bank="seb",le="+Inf"} 2');
    expect(text).toContain('bankgate_latency_seconds_count{bank="seb"} 2');
    expect(m.value('bankgate_requests_total', { bank: 'seb', status: '200' })).toBe(2);
  });

  it('escapes label values', () => {
    const m = new MetricsRegistry();
    m.inc('x_total', { v: 'a"b\\c\nd' });
    expect(m.render()).toContain('x_total{v="a\\"b\\\\c\\nd"} 1');
  });

  it('resolved series (counter(), histogram()) count into the same series as inc() and observe()', () => {
    const m = new MetricsRegistry();
    m.describe('lat_seconds', 'histogram', 'Latency.', [0.1, 1, 5]);
    const histogram = m.histogram('lat_seconds', { route: 'a' });
    histogram.observe(0.05);
    histogram.observe(1);
    m.observe('lat_seconds', { route: 'a' }, 7);
    const text = m.render();
    expect(text).toContain('lat_seconds_bucket{route="a",le="0.1"} 1');
    expect(text).toContain('lat_seconds_bucket{route="a",le="1"} 2');
    expect(text).toContain('lat_seconds_bucket{route="a",le="5"} 2');
    expect(text).toContain('lat_seconds_bucket{route="a",le="+Inf"} 3');
    const counter = m.counter('calls_total', { status: '200' });
    counter.inc();
    m.inc('calls_total', { status: '200' });
    expect(m.value('calls_total', { status: '200' })).toBe(2);
  });
});
