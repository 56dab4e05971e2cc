import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventBatcher, TimerApi } from '../../src/core/batcher';
import type { ClientEvent } from '../../src/core/protocol';

/** A manual clock: the test decides when timers fire, so nothing depends on machine load. */
class ManualTimers implements TimerApi {
  private queue: { fn: () => void; at: number; id: number }[] = [];
  private now = 0;
  private nextId = 1;
  setTimeout(fn: () => void, ms: number): unknown {
    const id = this.nextId++;
    this.queue.push({ fn, at: this.now + ms, id });
    return id;
  }
  clearTimeout(handle: unknown): void {
    this.queue = this.queue.filter((t) => t.id !== handle);
  }
  advance(ms: number): void {
    this.now += ms;
    const due = this.queue.filter((t) => t.at <= this.now);
    this.queue = this.queue.filter((t) => t.at > this.now);
    due.forEach((t) => t.fn());
  }
  get pending(): number {
    return this.queue.length;
  }
}

const change = (n: number): ClientEvent => ({ kind: 'document_change', uri: 'file:///a', version: n });

test('events wait for the delay and go out in one ordered batch', () => {
  const timers = new ManualTimers();
  const sent: ClientEvent[][] = [];
  const b = new EventBatcher((e) => sent.push(e), { delayMs: 50, maxEvents: 100, timers });
  b.push(change(1));
  b.push(change(2));
  b.push(change(3));
  assert.equal(sent.length, 0);
  assert.equal(timers.pending, 1, 'one timer per batch, not per event');
  timers.advance(49);
  assert.equal(sent.length, 0);
  timers.advance(1);
  assert.deepEqual(sent.map((batch) => batch.map((e) => e.version)), [[1, 2, 3]]);
  assert.equal(b.sentBatches, 1);
  assert.equal(b.sentEvents, 3);
});

test('a full batch is sent at once and the next one starts a new timer', () => {
  const timers = new ManualTimers();
  const sent: ClientEvent[][] = [];
  const b = new EventBatcher((e) => sent.push(e), { delayMs: 50, maxEvents: 3, timers });
  for (let i = 1; i <= 7; i++) {
    b.push(change(i));
  }
  assert.deepEqual(sent.map((x) => x.length), [3, 3]);
  timers.advance(50);
  assert.deepEqual(sent.map((x) => x.map((e) => e.version)), [[1, 2, 3], [4, 5, 6], [7]]);
});

test('a viewport immediately following another replaces it; anything in between keeps both', () => {
  const timers = new ManualTimers();
  const sent: ClientEvent[][] = [];
  const b = new EventBatcher((e) => sent.push(e), { delayMs: 50, maxEvents: 100, timers });
  b.push({ kind: 'viewport', n: 1 });
  b.push({ kind: 'viewport', n: 2 });
  b.push(change(1));
  b.push({ kind: 'viewport', n: 3 });
  b.flush();
  assert.deepEqual(sent[0].map((e) => e.n ?? e.kind), [2, 'document_change', 3]);
});

test('selections are never coalesced (every cursor move is an action)', () => {
  const sent: ClientEvent[][] = [];
  const b = new EventBatcher((e) => sent.push(e), { delayMs: 50, maxEvents: 100, timers: new ManualTimers() });
  b.push({ kind: 'selection', n: 1 });
  b.push({ kind: 'selection', n: 2 });
  b.flush();
  assert.equal(sent[0].length, 2);
});

test('flush sends now and cancels the timer; discard drops pending events unsent', () => {
  const timers = new ManualTimers();
  const sent: ClientEvent[][] = [];
  const b = new EventBatcher((e) => sent.push(e), { delayMs: 50, maxEvents: 100, timers });
  b.push(change(1));
  b.flush();
  assert.equal(timers.pending, 0);
  assert.equal(sent.length, 1);
  b.push(change(2));
  b.push(change(3));
  assert.equal(b.discard(), 2);
  timers.advance(100);
  assert.equal(sent.length, 1, 'discarded events never reach the sender');
  b.flush();
  assert.equal(sent.length, 1, 'an empty flush sends nothing');
});
