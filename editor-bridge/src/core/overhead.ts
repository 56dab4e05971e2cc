/**
 * What the bridge costs the extension host, measured where it is paid.
 *
 * Every event handler is wrapped by `measure`, which adds its duration (performance.now)
 * to a bucket; the text-change bucket also counts changes, so `perKeystrokeMs` is the total
 * time of all bridge handlers and batch sends divided by the number of document changes —
 * an upper bound on what one keystroke costs the host, since selection and viewport
 * handlers triggered by the same keystroke are included.
 */
export interface Bucket {
  calls: number;
  totalMs: number;
  maxMs: number;
}

export class OverheadMeter {
  readonly buckets = new Map<string, Bucket>();
  /** Recent durations of the text-change handler, for percentiles. */
  private readonly changeSamples: number[] = [];

  constructor(private readonly now: () => number, private readonly maxSamples = 10_000) {}

  measure<A extends unknown[]>(name: string, fn: (...args: A) => void): (...args: A) => void {
    return (...args: A) => {
      const t0 = this.now();
      try {
        fn(...args);
      } finally {
        this.add(name, this.now() - t0);
      }
    };
  }

  add(name: string, ms: number): void {
    let b = this.buckets.get(name);
    if (b === undefined) {
      b = { calls: 0, totalMs: 0, maxMs: 0 };
      this.buckets.set(name, b);
    }
    b.calls += 1;
    b.totalMs += ms;
    b.maxMs = Math.max(b.maxMs, ms);
    if (name === 'document_change' && this.changeSamples.length < this.maxSamples) {
      this.changeSamples.push(ms);
    }
  }

  report(): Record<string, unknown> {
    let total = 0;
    for (const b of this.buckets.values()) {
      total += b.totalMs;
    }
    const changes = this.buckets.get('document_change')?.calls ?? 0;
    const sorted = [...this.changeSamples].sort((a, b) => a - b);
    const pct = (p: number) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] : 0);
    return {
      changes,
      totalMs: total,
      perKeystrokeMs: changes ? total / changes : 0,
      changeHandlerP50Ms: pct(0.5),
      changeHandlerP99Ms: pct(0.99),
      changeHandlerMaxMs: sorted.length ? sorted[sorted.length - 1] : 0,
      buckets: Object.fromEntries(this.buckets),
    };
  }
}
