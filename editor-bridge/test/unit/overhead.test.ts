import { test } from 'node:test';
import assert from 'node:assert/strict';
import { OverheadMeter } from '../../src/core/overhead';

test('the meter charges every handler to the keystrokes that caused it', () => {
  let now = 0;
  const m = new OverheadMeter(() => now);
  const change = m.measure('document_change', () => { now += 0.2; });
  const sel = m.measure('selection', () => { now += 0.1; });
  for (let i = 0; i < 4; i++) {
    change();
    sel();
  }
  const r = m.report() as { changes: number; perKeystrokeMs: number; changeHandlerP50Ms: number };
  assert.equal(r.changes, 4);
  assert.ok(Math.abs(r.perKeystrokeMs - 0.3) < 1e-9);
  assert.ok(Math.abs(r.changeHandlerP50Ms - 0.2) < 1e-9);
});

test('a throwing handler is still measured and the error propagates', () => {
  let now = 0;
  const m = new OverheadMeter(() => now);
  const bad = m.measure('x', () => { now += 1; throw new Error('boom'); });
  assert.throws(() => bad(), /boom/);
  assert.equal(m.buckets.get('x')?.calls, 1);
});
