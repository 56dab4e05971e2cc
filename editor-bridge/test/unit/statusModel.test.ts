import { test } from 'node:test';
import assert from 'node:assert/strict';
import { StatusModel, formatDuration } from '../../src/core/statusModel';

test('recording is shown only when connected, fresh, and the sidecar says so', () => {
  const m = new StatusModel(10_000);
  assert.equal(m.view(0).mode, 'starting');
  m.setStatus({ state: 'recording', sessionId: 's1' }, 0);
  assert.equal(m.view(0).recording, false, 'a status before the connection is up proves nothing');
  m.setConnection({ kind: 'up' });
  assert.equal(m.view(0).mode, 'starting', 'connected but no status yet');
  m.setStatus({ state: 'recording', sessionId: 's1' }, 1_000);
  const v = m.view(66_000);
  assert.equal(v.mode, 'error', 'a status older than the stale limit no longer counts');
  m.setStatus({ state: 'recording', sessionId: 's1' }, 66_000);
  const fresh = m.view(66_500);
  assert.equal(fresh.mode, 'recording');
  assert.equal(fresh.recording, true);
  assert.match(fresh.text, /REC 01:05/, 'the timer runs from when the session was first seen recording');
});

test('sidecar down or no python is an error, and forgets the last status', () => {
  const m = new StatusModel(10_000);
  m.setConnection({ kind: 'up' });
  m.setStatus({ state: 'recording', sessionId: 's1' }, 0);
  m.setConnection({ kind: 'down', reason: 'the sidecar process exited', retryInMs: 2000 });
  const v = m.view(1);
  assert.equal(v.mode, 'error');
  assert.equal(v.recording, false);
  assert.match(v.tooltip, /Restarting in 2 s/);
  m.setConnection({ kind: 'up' });
  assert.notEqual(m.view(2).mode, 'recording', 'after a restart, recording must be confirmed again');
  m.setConnection({ kind: 'no_python', reason: 'no crowd' });
  assert.equal(m.view(3).mode, 'error');
});

test('each sidecar state maps to its own mode', () => {
  const m = new StatusModel(10_000);
  m.setConnection({ kind: 'up' });
  const cases: [string, string][] = [
    ['awaiting_consent', 'consent'], ['declined', 'declined'], ['paused', 'paused'], ['stopped', 'stopped'],
  ];
  for (const [state, mode] of cases) {
    m.setStatus({ state: state as 'paused' }, 0);
    assert.equal(m.view(0).mode, mode, state);
    assert.equal(m.view(0).recording, false);
  }
});

test('a stalled writer while "recording" is an error; other problems only show in the tooltip', () => {
  const m = new StatusModel(10_000);
  m.setConnection({ kind: 'up' });
  m.setStatus({ state: 'recording', sessionId: 's', events: 5, eventsWritten: 5, errors: ['refused edit: offset past the end'] }, 0);
  assert.equal(m.view(0).mode, 'recording');
  assert.match(m.view(0).tooltip, /offset past the end/);
  const failing = ['writing the recording failed (will retry): [Errno 28] No space left on device'];
  m.setStatus({ state: 'recording', sessionId: 's', events: 9, eventsWritten: 5, errors: failing }, 1);
  assert.equal(m.view(1).mode, 'error', 'events wait and none was written since the last status');
  m.setStatus({ state: 'recording', sessionId: 's', events: 12, eventsWritten: 11, errors: failing }, 2);
  assert.equal(m.view(2).mode, 'recording', 'writes resumed: the old failure no longer counts');
});

test('a new session restarts the timer; pause keeps it', () => {
  const m = new StatusModel(1e9);
  m.setConnection({ kind: 'up' });
  m.setStatus({ state: 'recording', sessionId: 'a' }, 0);
  m.setStatus({ state: 'paused', sessionId: 'a' }, 30_000);
  m.setStatus({ state: 'recording', sessionId: 'a' }, 40_000);
  assert.match(m.view(60_000).text, /REC 01:00/);
  m.setStatus({ state: 'recording', sessionId: 'b' }, 60_000);
  assert.match(m.view(61_000).text, /REC 00:01/);
});

test('durations format as mm:ss and h:mm:ss', () => {
  assert.equal(formatDuration(0), '00:00');
  assert.equal(formatDuration(61_999), '01:01');
  assert.equal(formatDuration(3_600_000 + 5_000), '1:00:05');
});

test('a window on the recordings folder: off here, with the reason, not an error', () => {
  const m = new StatusModel(10_000);
  m.setConnection({ kind: 'disabled', reason: '/r is inside crowd\'s recordings folder' });
  const v = m.view(0);
  assert.equal(v.text, '$(circle-slash) crowd: off here');
  assert.match(v.tooltip, /recordings folder/);
  assert.equal(v.recording, false);
  assert.notEqual(v.mode, 'error');
});
