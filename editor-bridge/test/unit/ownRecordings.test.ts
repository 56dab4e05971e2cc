import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { defaultRecordingsDir, selfRecording } from '../../src/core/ownRecordings';

test('the default recordings folder follows crowd.home', () => {
  assert.equal(defaultRecordingsDir({ CROWD_HOME: '/c' }, '/home/u', path.posix), '/c/recordings');
  assert.equal(defaultRecordingsDir({ XDG_DATA_HOME: '/x' }, '/home/u', path.posix), '/x/crowd/recordings');
  assert.equal(defaultRecordingsDir({}, '/home/u', path.posix), '/home/u/.local/share/crowd/recordings');
});

test('an export path inside the workspace is excluded from its recording', () => {
  assert.deepEqual(selfRecording('/ws/out/rec', ['/ws'], path.posix), { excludes: ['/out/rec/'] });
  assert.deepEqual(selfRecording('/elsewhere/rec', ['/ws'], path.posix), { excludes: [] });
  assert.deepEqual(selfRecording('/ws-other/rec', ['/ws'], path.posix), { excludes: [] }, 'a sibling with a common prefix');
  assert.deepEqual(selfRecording('C:\\ws\\rec', ['C:\\ws'], path.win32), { excludes: ['/rec/'] });
});

test('a window opened on the recordings folder (or inside it) records nothing', () => {
  const rec = '/home/u/.local/share/crowd/recordings';
  assert.equal(selfRecording(rec, [rec], path.posix).insideRecordings, rec);
  assert.equal(selfRecording(rec, ['/ws', `${rec}/2026-12-06-abc`], path.posix).insideRecordings, `${rec}/2026-12-06-abc`);
});
