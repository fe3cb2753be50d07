/*
 * A small Prometheus registry. The usual client library reaches for Node's process and cluster modules,
 * and this app must also run on Workers; what it needs here is counters, gauges read at scrape time
 * and one latency histogram, rendered in the text exposition format.
 */

type Labels = Record<string, string>;

function labelKey(labels: Labels): string {
  return Object.keys(labels)
    .sort()
    .map((k) => `${k}="${String(labels[k]).replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"')}"`)
    .join(',');
}

export class Counter {
  private readonly values = new Map<string, number>();
  constructor(readonly name: string, readonly help: string) {}
  inc(labels: Labels = {}, by = 1): void {
    const key = labelKey(labels);
    this.values.set(key, (this.values.get(key) ?? 0) + by);
  }
  get(labels: Labels = {}): number {
    return this.values.get(labelKey(labels)) ?? 0;
  }
  render(): string[] {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} counter`];
    for (const [key, v] of this.values) lines.push(`${this.name}${key ? `{${key}}` : ''} ${v}`);
    return lines;
  }
}

export class Histogram {
  private readonly series = new Map<string, { buckets: number[]; sum: number; count: number }>();
  constructor(readonly name: string, readonly help: string, readonly bounds: number[] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5]) {}
  observe(labels: Labels, value: number): void {
    const key = labelKey(labels);
    let s = this.series.get(key);
    if (!s) {
      s = { buckets: this.bounds.map(() => 0), sum: 0, count: 0 };
      this.series.set(key, s);
    }
    this.bounds.forEach((b, i) => {
      if (value <= b) s.buckets[i]! += 1;
    });
    s.sum += value;
    s.count += 1;
  }
  count(labels: Labels = {}): number {
    return this.series.get(labelKey(labels))?.count ?? 0;
  }
  render(): string[] {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} histogram`];
    for (const [key, s] of this.series) {
      const sep = key ? `${key},` : '';
      this.bounds.forEach((b, i) => lines.push(`${this.name}_bucket{${sep}le="${b}"} ${s.buckets[i]}`));
      lines.push(`${this.name}_bucket{${sep}le="+Inf"} ${s.count}`);
      lines.push(`${this.name}_sum${key ? `{${key}}` : ''} ${s.sum}`);
      lines.push(`${this.name}_count${key ? `{${key}}` : ''} ${s.count}`);
    }
    return lines;
  }
}

/** A gauge whose samples are read when scraped (for example outbox depth from the database). */
export interface GaugeSource {
  name: string;
  help: string;
  collect(): Promise<{ labels: Labels; value: number }[]>;
}

/** How old the gauges' samples may be when scraped: a scrape never costs more than one read of each gauge per this. */
export const GAUGE_MAX_AGE_MS = 15_000;

export class Metrics {
  readonly webhookRequests = new Counter('dealer_webhook_requests_total', 'Webhook requests by channel and outcome.');
  readonly eventsProcessed = new Counter('dealer_events_processed_total', 'Customer events processed by channel and result.');
  readonly eventsDeduplicated = new Counter('dealer_events_deduplicated_total', 'Redelivered events dropped because they were already processed.');
  readonly sends = new Counter('dealer_outbox_sends_total', 'Outbound deliveries by platform and result.');
  readonly stepLatency = new Histogram('dealer_step_duration_seconds', 'Time to process one customer event, from lock to commit.');
  /** Requests refused for going over a rate limit, by what was limited. */
  readonly rateLimited = new Counter('dealer_rate_limited_total', 'Requests refused with 429, by limit.');
  private readonly gauges: GaugeSource[] = [];
  /** The gauges' latest samples, kept in memory: scrapes are answered from here. */
  private samples = new Map<GaugeSource, { labels: Labels; value: number }[]>();
  private collectedAt = -Infinity;
  private collecting: Promise<void> | null = null;

  constructor(private readonly now: () => number = () => Date.now()) {}

  addGauge(source: GaugeSource): void {
    this.gauges.push(source);
  }

  /** Reads every gauge now (one at a time, and only once however many ask at the same moment). */
  collectGauges(): Promise<void> {
    this.collecting ??= (async () => {
      try {
        const next = new Map<GaugeSource, { labels: Labels; value: number }[]>();
        for (const g of this.gauges) next.set(g, await g.collect());
        this.samples = next;
        this.collectedAt = this.now();
      } finally {
        this.collecting = null;
      }
    })();
    return this.collecting;
  }

  /**
   * The exposition text, from what is kept in memory. Gauges whose source is the database are read again
   * only when their samples are older than GAUGE_MAX_AGE_MS, so scrapes, however many, cost the database
   * at most one read of each gauge in that time.
   */
  async render(): Promise<string> {
    if (this.now() - this.collectedAt >= GAUGE_MAX_AGE_MS) await this.collectGauges();
    const lines: string[] = [];
    for (const m of [this.webhookRequests, this.eventsProcessed, this.eventsDeduplicated, this.sends, this.rateLimited, this.stepLatency]) lines.push(...m.render());
    for (const g of this.gauges) {
      lines.push(`# HELP ${g.name} ${g.help}`, `# TYPE ${g.name} gauge`);
      for (const { labels, value } of this.samples.get(g) ?? []) {
        const key = labelKey(labels);
        lines.push(`${g.name}${key ? `{${key}}` : ''} ${value}`);
      }
    }
    return `${lines.join('\n')}\n`;
  }
}
