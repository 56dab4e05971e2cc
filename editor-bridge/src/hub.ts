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

  constructor(send: (events: ClientEvent[]) => void, readonly meter: OverheadMeter, delayMs: number) {
    this.batcher = new EventBatcher(this.meter.measure('send', send), { delayMs, maxEvents: 500 });
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
