import { test } from 'node:test';
import assert from 'node:assert/strict';
import { WindowWatch } from '../../src/core/windowWatch';

test('no answer from the window for 30 s: gone; an answer again: back', async () => {
  let now = 0;
  let answer: (() => void) | undefined;
  const events: string[] = [];
  const w = new WindowWatch(() => new Promise<void>((r) => { answer = r; }), () => events.push('gone'), () => events.push('back'), () => now, 30_000);
  w.tick();                      // ping 1 pending
  now = 10_000;
  answer?.();                    // answered at 10 s
  await Promise.resolve();
  w.tick();                      // ping 2: never answered (the browser died)
  now = 35_000; w.tick();
  assert.deepEqual(events, []);  // 25 s since the last answer
  now = 41_000; w.tick();
  assert.deepEqual(events, ['gone']);
  now = 60_000; w.tick();
  assert.deepEqual(events, ['gone'], 'said once');
  answer?.();                    // the window reconnected: the queued ping is answered
  await Promise.resolve();
  assert.deepEqual(events, ['gone', 'back']);
  assert.equal(w.windowGone, false);
});
