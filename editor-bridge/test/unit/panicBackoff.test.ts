import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Backoff } from '../../src/core/backoff';
import { PanicEscalator } from '../../src/core/panic';

test('panic deletes more on repeated presses and resets after a quiet minute', () => {
  const p = new PanicEscalator(10, 60_000);
  assert.equal(p.press(0), 10);
  assert.equal(p.press(5_000), 20);
  assert.equal(p.press(60_000), 30, 'within a minute of the previous press');
  assert.equal(p.press(200_000), 10, 'a press long after starts over');
});

test('backoff doubles to a cap and resets after a stable run', () => {
  const b = new Backoff(1_000, 8_000, 60_000);
  b.started(0);
  assert.equal(b.failed(10), 1_000);
  b.started(1_000);
  assert.equal(b.failed(1_010), 2_000);
  assert.equal(b.failed(1_020), 4_000);
  assert.equal(b.failed(1_030), 8_000);
  assert.equal(b.failed(1_040), 8_000, 'capped');
  b.started(2_000);
  assert.equal(b.failed(2_000 + 60_000), 1_000, 'a run of a minute or more counts as recovered');
});

test('the panic tooltip shows what the next press deletes', async () => {
  const { formatMinutes } = await import('../../src/core/panic');
  const p = new PanicEscalator(10, 60_000);
  assert.equal(p.peek(0), 10);
  p.press(0);
  assert.equal(p.peek(30_000), 20, 'a press now would delete 20');
  assert.equal(p.peek(61_000), 10, 'after a quiet minute: the base again');
  assert.equal(p.press(30_000), 20, 'peek did not count as a press');
  assert.equal(formatMinutes(10), '10 minutes');
  assert.equal(formatMinutes(1), '1 minute');
  assert.equal(formatMinutes(0.25), '15 seconds');
});
