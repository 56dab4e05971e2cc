import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { deleteRecording, formatBytes, listRecordings } from '../../src/core/recordings';

function tree(): string {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'crowd-recs-'));
  for (const [name, mtime] of [['20261206-100000-a', 1_000], ['20261206-120000-b', 2_000]] as const) {
    fs.mkdirSync(path.join(root, name, 'snapshots'), { recursive: true });
    fs.writeFileSync(path.join(root, name, 'seg-000000.crowd'), 'x'.repeat(100));
    fs.writeFileSync(path.join(root, name, 'snapshots', 'm.json'), '{}');
    fs.utimesSync(path.join(root, name), mtime, mtime);
  }
  fs.mkdirSync(path.join(root, 'not-a-recording'));
  fs.writeFileSync(path.join(root, '20261206-100000-a.html'), '<html>');
  return root;
}

test('recordings: folders with segments, newest first, with their size', () => {
  const root = tree();
  const list = listRecordings(root);
  assert.deepEqual(list.map((r) => r.name), ['20261206-120000-b', '20261206-100000-a']);
  assert.equal(list[0].bytes, 102);
  assert.equal(list[0].segments, 1);
  assert.deepEqual(listRecordings(path.join(root, 'missing')), []);
  assert.equal(formatBytes(2048), '2.0 KB');
});

test('delete removes the recording and its replay page, and nothing outside the folder', () => {
  const root = tree();
  deleteRecording(root, path.join(root, '20261206-100000-a'));
  assert.ok(!fs.existsSync(path.join(root, '20261206-100000-a')));
  assert.ok(!fs.existsSync(path.join(root, '20261206-100000-a.html')));
  assert.throws(() => deleteRecording(root, path.join(root, 'not-a-recording')), /no recording segments/);
  assert.throws(() => deleteRecording(root, root), /not a recording/);
  assert.throws(() => deleteRecording(root, path.join(root, '..')), /not a recording/);
  assert.ok(fs.existsSync(path.join(root, '20261206-120000-b')));
});
