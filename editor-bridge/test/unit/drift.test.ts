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
