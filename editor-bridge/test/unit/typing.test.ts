import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { EditContext, ObservedChange, Span, classifyEdit, isUsers, licenceEvent, modeEvent } from '../../src/core/typing';

const pkg = JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', 'package.json'), 'utf8'));

const at = (line: number, character: number) => ({ line, character });
const caret = (line: number, character: number): Span => ({ start: at(line, character), end: at(line, character) });
const insert = (line: number, character: number, text: string): ObservedChange => ({ start: at(line, character), end: at(line, character), text });
const ctx = (changes: ObservedChange[], selections: Span[], extra: Partial<EditContext> = {}): EditContext =>
  ({ changes, selections, reason: null, saving: false, ...extra });

test('typing, Backspace, Enter with indent, auto-closing and completions happen at the cursor', () => {
  assert.equal(classifyEdit(ctx([insert(5, 3, 'x')], [caret(5, 3)])), 'cursor');
  assert.equal(classifyEdit(ctx([insert(5, 3, '()')], [caret(5, 3)])), 'cursor');
  assert.equal(classifyEdit(ctx([{ start: at(5, 2), end: at(5, 3), text: '' }], [caret(5, 3)])), 'cursor'); // Backspace
  assert.equal(classifyEdit(ctx([{ start: at(4, 9), end: at(5, 0), text: '' }], [caret(5, 0)])), 'cursor'); // join lines
  assert.equal(classifyEdit(ctx([{ start: at(5, 0), end: at(5, 4), text: 'items' }], [caret(5, 4)])), 'cursor'); // completion
  assert.equal(classifyEdit(ctx([insert(5, 8, '\n    ')], [caret(5, 8)])), 'cursor'); // Enter
  // Ctrl+/ inserts at the line start while the cursor is mid-line: same line
  assert.equal(classifyEdit(ctx([insert(5, 0, '# ')], [caret(5, 7)])), 'cursor');
});

test('multi-cursor and selections: a change on any cursor line is the user\'s', () => {
  const sels = [caret(1, 0), caret(9, 2)];
  assert.equal(classifyEdit(ctx([insert(9, 2, 'a'), insert(1, 0, 'a')], sels)), 'cursor');
  // Tab on a selection over lines 3..6 indents their starts
  assert.equal(classifyEdit(ctx([insert(4, 0, '    ')], [{ start: at(3, 5), end: at(6, 1) }])), 'cursor');
});

test('an inline agent writing away from every cursor is not the user', () => {
  assert.equal(classifyEdit(ctx([insert(0, 0, '# agent-3 wrote this\n')], [caret(12, 4)])), 'away');
  assert.equal(isUsers('away'), false);
  // a pure deletion away from the cursor is not taken for formatting
  assert.equal(classifyEdit(ctx([{ start: at(0, 0), end: at(2, 0), text: '' }], [caret(12, 4)])), 'away');
});

test('white-space-only edits (format document) and edits during a save are the user\'s', () => {
  const format = [insert(0, 1, '\n    '), insert(0, 6, ' '), insert(0, 12, '\n')];
  assert.equal(classifyEdit(ctx(format, [caret(40, 0)])), 'blank');
  assert.equal(classifyEdit(ctx([insert(0, 0, 'import os\n')], [caret(40, 0)], { saving: true })), 'save');
  assert.ok(isUsers('blank') && isUsers('save') && isUsers('cursor'));
});

test('undo/redo and documents no editor shows are left to the sidecar', () => {
  assert.equal(classifyEdit(ctx([insert(5, 3, 'x')], [caret(5, 3)], { reason: 'undo' })), 'skip');
  assert.equal(classifyEdit(ctx([insert(5, 3, 'x')], [])), 'skip');
  assert.equal(classifyEdit(ctx([], [caret(5, 3)])), 'skip');
});

test('wire events: a licence any edit fits, and the mode', () => {
  assert.deepEqual(licenceEvent('cursor'), { kind: 'user_input', what: 'key', command: 'observed.cursor' });
  assert.deepEqual(modeEvent(false), { kind: 'user_input', what: 'signals', on: false });
});

test('the extension intercepts no input: no keybindings, no typing commands, nothing shadowed', () => {
  assert.equal(pkg.contributes.keybindings, undefined);
  const commands = (pkg.contributes.commands as { command: string }[]).map((c) => c.command);
  for (const id of ['type', 'paste', 'cut', 'compositionType', 'replacePreviousChar']) {
    assert.ok(!commands.includes(id));
  }
  const src = fs.readdirSync(path.join(__dirname, '..', '..', 'src'), { recursive: true }) as string[];
  for (const f of src.filter((name) => name.endsWith('.ts'))) {
    const text = fs.readFileSync(path.join(__dirname, '..', '..', 'src', f), 'utf8');
    assert.doesNotMatch(text, /registerCommand\(\s*['"](type|paste|cut|compositionType|replacePreviousChar)['"]/, f);
    assert.doesNotMatch(text, /registerDocumentPasteEditProvider\(/, f);
  }
  assert.equal(pkg.contributes.configuration.properties['crowd.typingSignals'].default, true);
});
