/**
 * Where every forwarder hands its events: the consent gate, the batcher and the meter.
 * Kept tiny because it is on the per-keystroke path.
 */
import { EventBatcher } from './core/batcher';
import { OverheadMeter } from './core/overhead';
import type { ClientEvent } from './core/protocol';

export class EventHub {
  readonly batcher: EventBatcher;
  /** False after the user declined: then not even the local sidecar receives anything. */
  enabled = true;
  /** Events emitted per kind (reported by `crowd: Show bridge overhead statistics`). */
  readonly counts = new Map<string, number>();

  constructor(send: (events: ClientEvent[]) => void, readonly meter: OverheadMeter, delayMs: number,
    slow?: (ms: number, events: ClientEvent[]) => void) {
    const measured = (events: ClientEvent[]) => {
      const t0 = performance.now();
      try {
        send(events);
      } finally {
        const ms = performance.now() - t0;
        this.meter.add('send', ms);
        if (ms > 5 && slow) {
          slow(ms, events); // diagnostics: which batches are expensive to hand over
        }
      }
    };
    this.batcher = new EventBatcher(measured, { delayMs, maxEvents: 500 });
  }

  emit(event: ClientEvent): void {
    if (this.enabled) {
      this.counts.set(event.kind, (this.counts.get(event.kind) ?? 0) + 1);
      this.batcher.push(event);
    }
  }

  flush(): void {
    this.batcher.flush();
  }
}
