/**
 * The Prometheus text exposition format (version 0.0.4), written from plain values: one
 * HELP and TYPE per family, then its samples; a histogram's buckets cumulative, with _sum
 * and _count. A sample whose value is null is left out (unknown is not zero).
 */
import type { HistogramStats } from './histogram.js';

export type Labels = Record<string, string>;
export type MetricType = 'counter' | 'gauge' | 'histogram';

function escapeLabel(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

function escapeHelp(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}

function formatValue(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  return String(v);
}

function formatLabels(labels: Labels): string {
  const parts = Object.entries(labels).map(([k, v]) => `${k}="${escapeLabel(v)}"`);
  return parts.length === 0 ? '' : `{${parts.join(',')}}`;
}

export class Exposition {
  private readonly lines: string[] = [];
  private readonly names = new Set<string>();

  private head(name: string, type: MetricType, help: string): void {
    // Two families of one name is a bug in the list of metrics, not a thing to serve.
    if (this.names.has(name)) throw new Error(`metric family ${name} written twice`);
    this.names.add(name);
    this.lines.push(`# HELP ${name} ${escapeHelp(help)}`, `# TYPE ${name} ${type}`);
  }

  /** A counter or gauge family; samples with a null value are left out. */
  family(name: string, type: 'counter' | 'gauge', help: string, samples: Iterable<readonly [Labels, number | null]>): void {
    this.head(name, type, help);
    for (const [labels, value] of samples) if (value !== null) this.lines.push(`${name}${formatLabels(labels)} ${formatValue(value)}`);
  }

  histogram(name: string, help: string, bounds: readonly number[], series: Iterable<readonly [Labels, HistogramStats]>): void {
    this.head(name, 'histogram', help);
    for (const [labels, h] of series) {
      let cumulative = 0;
      for (let i = 0; i < bounds.length; i++) {
        cumulative += h.counts[i] ?? 0;
        this.lines.push(`${name}_bucket${formatLabels({ ...labels, le: formatValue(bounds[i]!) })} ${cumulative}`);
      }
      this.lines.push(`${name}_bucket${formatLabels({ ...labels, le: '+Inf' })} ${h.count}`);
      this.lines.push(`${name}_sum${formatLabels(labels)} ${formatValue(h.sum)}`);
      this.lines.push(`${name}_count${formatLabels(labels)} ${h.count}`);
    }
  }

  text(): string {
    return this.lines.join('\n') + '\n';
  }
}
