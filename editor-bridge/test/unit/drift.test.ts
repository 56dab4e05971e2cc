import { test } from 'node:test';
import assert from 'node:assert/strict';
import { drifted } from '../../src/core/drift';

test('a sidecar started before the user settings arrived is found out', () => {
  const started = { python: '', exclude: [], panicMinutes: 10, upload: false };
  const now = { python: '', exclude: [], panicMinutes: 10, upload: false, recordingsDir: '/tmp/rec' };
  assert.deepEqual(drifted(started, now), ['recordingsDir']);
  assert.deepEqual(drifted(now, { ...now }), []);
  assert.deepEqual(drifted(started, { ...started, exclude: ['*.log'] }), ['exclude']);
  assert.deepEqual(drifted(undefined, now), [], 'nothing runs yet: nothing drifted');
});

test('a drift restarts the sidecar only when it holds for 3 s (settings seen to flip in code-server)', async () => {
  const { DriftGate } = await import('../../src/core/drift');
  const g = new DriftGate(3_000);
  assert.equal(g.observe(['recordingsDir'], 0), false);
  assert.equal(g.observe([], 1_000), false, 'back before the hold: forgotten');
  assert.equal(g.observe(['recordingsDir'], 2_000), false);
  assert.equal(g.observe(['recordingsDir'], 4_000), false);
  assert.equal(g.observe(['recordingsDir'], 5_000), true, 'held 3 s: restart');
  assert.equal(g.observe(['python'], 6_000), false, 'a different drift starts its own hold');
});
