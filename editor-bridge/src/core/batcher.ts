/**
 * Collects events for a short window and hands them over in one message.
 *
 * WHY: the sidecar handles ~2,000 messages/s (pygls pays a thread hop and a class per
 * message), a burst of typing or a replace-all emits far more change events than that.
 * One `crowd/events` notification every `delayMs` keeps the extension host's per-keystroke
 * cost to an array push, and the sidecar's per-message cost is paid once per batch.
 * Order is preserved; nothing is dropped except superseded viewport observations
 * (a later viewport of the same state replaces the earlier one still waiting).
 */
import type { ClientEvent } from './protocol';

export interface TimerApi {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

const realTimers: TimerApi = {
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as ReturnType<typeof setTimeout>),
};

export interface BatcherOptions {
  /** How long the first event of a batch may wait. */
  delayMs: number;
  /** A batch this long is sent at once (bounds message size during bursts). */
  maxEvents: number;
  /** Kinds for which only the latest pending event matters when it is the last one queued. */
  coalesceKinds?: ReadonlySet<string>;
  timers?: TimerApi;
}

export type Sender = (events: ClientEvent[]) => void;

export class EventBatcher {
  private pending: ClientEvent[] = [];
  private timer: unknown = undefined;
  private readonly timers: TimerApi;
  private readonly coalesce: ReadonlySet<string>;
  /** Events handed to the sender, and batches sent (for the overhead statistics). */
  sentEvents = 0;
  sentBatches = 0;

  constructor(private readonly send: Sender, private options: BatcherOptions) {
    this.timers = options.timers ?? realTimers;
    this.coalesce = options.coalesceKinds ?? new Set(['viewport']);
  }

  setDelay(delayMs: number): void {
    this.options = { ...this.options, delayMs };
  }

  get size(): number {
    return this.pending.length;
  }

  push(event: ClientEvent): void {
    const last = this.pending[this.pending.length - 1];
    if (last !== undefined && last.kind === event.kind && this.coalesce.has(event.kind)) {
      this.pending[this.pending.length - 1] = event;
      return;
    }
    this.pending.push(event);
    if (this.pending.length >= this.options.maxEvents) {
      this.flush();
    } else if (this.timer === undefined) {
      this.timer = this.timers.setTimeout(() => {
        this.timer = undefined;
        this.flush();
      }, this.options.delayMs);
    }
  }

  /** Send everything pending now (before requests that must see prior events). */
  flush(): void {
    if (this.timer !== undefined) {
      this.timers.clearTimeout(this.timer);
      this.timer = undefined;
    }
    if (this.pending.length === 0) {
      return;
    }
    const batch = this.pending;
    this.pending = [];
    this.sentEvents += batch.length;
    this.sentBatches += 1;
    this.send(batch);
  }

  /** Forget pending events (consent withdrawn, panic): they must never reach the sidecar. */
  discard(): number {
    if (this.timer !== undefined) {
      this.timers.clearTimeout(this.timer);
      this.timer = undefined;
    }
    const n = this.pending.length;
    this.pending = [];
    return n;
  }
}
