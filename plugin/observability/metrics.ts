/**
 * A small Prometheus registry: counters, gauges and histograms with labels, rendered as text exposition
 * format 0.0.4. Injected into the engines (never a global), so that two gateways in one process, or a test,
 * each have their own. Label values are names and codes only, never a token or an identifier of a PSU.
 */
export type Labels = Readonly<Record<string, string>>;

interface Series {
  labels: Labels;
  value: number;
}

interface HistogramSeries {
  labels: Labels;
  buckets: number[];
  sum: number;
  count: number;
}

type Metric =
  | { kind: 'counter' | 'gauge'; help: string; series: Map<string, Series> }
  | { kind: 'histogram'; help: string; bounds: readonly number[]; series: Map<string, HistogramSeries> };

/** Seconds: from a fast loopback call to a slow bank. */
export const DEFAULT_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30] as const;

export class MetricsRegistry {
  readonly #metrics = new Map<string, Metric>();

  /** Adds to a counter (created on first use). */
  inc(name: string, labels: Labels = {}, by = 1): void {
    const series = this.#series(name, 'counter', labels);
    series.value += by;
  }

  set(name: string, labels: Labels, value: number): void {
    this.#series(name, 'gauge', labels).value = value;
  }

  observe(name: string, labels: Labels, value: number): void {
    this.histogram(name, labels).observe(value);
  }

  /**
   * One counter series, resolved once: the hot path keeps the handle and `inc()`s it without building and
   * sorting a label key on every call.
   */
  counter(name: string, labels: Labels): { inc(by?: number): void } {
    const series = this.#series(name, 'counter', labels);
    return { inc: (by = 1) => void (series.value += by) };
  }

  /** One histogram series, resolved once (see `counter`). */
  histogram(name: string, labels: Labels): { observe(value: number): void } {
    const metric = this.#metric(name, 'histogram');
    if (metric.kind !== 'histogram') return { observe() {} };
    const key = keyOf(labels);
    let series = metric.series.get(key);
    if (!series) metric.series.set(key, (series = { labels, buckets: metric.bounds.map(() => 0), sum: 0, count: 0 }));
    const { bounds } = metric;
    const target = series;
    return {
      observe(value) {
        // Buckets are cumulative: every bound at or above the value counts it; the first one found ends the scan.
        for (let i = bounds.length - 1; i >= 0 && value <= bounds[i]!; i--) target.buckets[i]!++;
        target.sum += value;
        target.count++;
      },
    };
  }

  /** Declares a metric's help text (and a histogram's buckets) before use; optional for counters and gauges. */
  describe(name: string, kind: Metric['kind'], help: string, bounds: readonly number[] = DEFAULT_BUCKETS): void {
    if (this.#metrics.has(name)) return;
    this.#metrics.set(name, kind === 'histogram' ? { kind, help, bounds, series: new Map() } : { kind, help, series: new Map() });
  }

  /** Current value of a counter or gauge series (for tests and health checks). */
  value(name: string, labels: Labels = {}): number | undefined {
    const metric = this.#metrics.get(name);
    if (!metric || metric.kind === 'histogram') return undefined;
    return metric.series.get(keyOf(labels))?.value;
  }

  render(): string {
    const lines: string[] = [];
    for (const [name, metric] of [...this.#metrics].sort(([a], [b]) => a.localeCompare(b))) {
      lines.push(`# HELP ${name} ${metric.help.replace(/\\/g, '\\\\').replace(/\n/g, '\\n')}`, `# TYPE ${name} ${metric.kind}`);
      if (metric.kind === 'histogram') {
        for (const s of metric.series.values()) {
          metric.bounds.forEach((bound, i) => lines.push(`${name}_bucket${render({ ...s.labels, le: String(bound) })} ${s.buckets[i]}`));
          lines.push(`${name}_bucket${render({ ...s.labels, le: '+Inf' })} ${s.count}`, `${name}_sum${render(s.labels)} ${s.sum}`, `${name}_count${render(s.labels)} ${s.count}`);
        }
      } else {
        for (const s of metric.series.values()) lines.push(`${name}${render(s.labels)} ${s.value}`);
      }
    }
    return lines.join('\n') + '\n';
  }

  #metric(name: string, kind: Metric['kind']): Metric {
    let metric = this.#metrics.get(name);
    if (!metric) {
      this.describe(name, kind, name.replace(/_/g, ' '));
      metric = this.#metrics.get(name)!;
    }
    return metric;
  }

  #series(name: string, kind: 'counter' | 'gauge', labels: Labels): Series {
    const metric = this.#metric(name, kind);
    if (metric.kind === 'histogram') throw new Error(`metric ${name} is a histogram`);
    const key = keyOf(labels);
    let series = metric.series.get(key);
    if (!series) metric.series.set(key, (series = { labels, value: 0 }));
    return series;
  }
}

function keyOf(labels: Labels): string {
  return Object.keys(labels).sort().map((k) => `${k}=${labels[k]}`).join(',');
}

function render(labels: Labels): string {
  const keys = Object.keys(labels);
  if (keys.length === 0) return '';
  return `{${keys.map((k) => `${k}="${String(labels[k]).replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`).join(',')}}`;
}
