import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { CONTEXT_KEY, OVERRIDES, findConflict, parseKeyArgs, registerOverrides } from '../../src/core/typing';

const pkg = JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', 'package.json'), 'utf8'));

/** A command registry with VS Code's rule: registering an id twice throws. */
function registry(taken: string[] = []) {
  const ids = new Set(taken);
  const register = (id: string) => {
    if (ids.has(id)) {
      throw new Error(`command '${id}' already exists`);
    }
    ids.add(id);
    return { dispose: () => ids.delete(id) };
  };
  return { ids, register };
}

test('all overrides are registered, each forwarding with its signal kind', () => {
  const r = registry();
  const seen: [string, string][] = [];
  const result = registerOverrides(r.register, (id, what) => { seen.push([id, what]); return () => undefined; });
  assert.equal(result.ok, true);
  assert.deepEqual([...r.ids].sort(), Object.keys(OVERRIDES).sort());
  assert.deepEqual(Object.fromEntries(seen), { type: 'type', replacePreviousChar: 'type', compositionType: 'type', paste: 'paste', cut: 'key' });
});

test('another extension owning one command: none stays registered and the reason names it', () => {
  const r = registry(['paste']); // e.g. an extension that took `paste` before us
  const result = registerOverrides(r.register, () => () => undefined);
  assert.equal(result.ok, false);
  assert.deepEqual([...r.ids], ['paste'], 'the overrides registered before the failure are given back');
  assert.match(result.reason ?? '', /'paste'/);
  assert.equal(result.disposables.length, 0);
});

test('a known Vim-like extension is a conflict before anything is registered', () => {
  const installed = new Set(['someone.other', 'vscodevim.vim']);
  const conflict = findConflict((id) => installed.has(id));
  assert.equal(conflict, 'vscodevim.vim');
  const r = registry();
  const result = registerOverrides(r.register, () => () => undefined, conflict);
  assert.equal(result.ok, false);
  assert.equal(r.ids.size, 0);
  assert.match(result.reason ?? '', /vscodevim\.vim/);
  assert.equal(findConflict(() => false), undefined);
});

test('crowd.input.key arguments: a command is required, the signal kind defaults to key', () => {
  assert.deepEqual(parseKeyArgs({ command: 'deleteLeft' }), { command: 'deleteLeft', what: 'key' });
  assert.deepEqual(parseKeyArgs({ command: 'acceptSelectedSuggestion', what: 'keybinding' }),
    { command: 'acceptSelectedSuggestion', what: 'keybinding' });
  assert.equal(parseKeyArgs(undefined), undefined);
  assert.equal(parseKeyArgs({ command: '' }), undefined);
  assert.equal(parseKeyArgs('deleteLeft'), undefined);
});

test('editing-key keybindings are gated by the context key and only apply in writable text editors', () => {
  const keys = (pkg.contributes.keybindings as { command: string; when: string; args?: { command?: string } }[])
    .filter((k) => k.command === 'crowd.input.key');
  assert.ok(keys.length >= 10);
  for (const k of keys) {
    assert.ok(k.when.startsWith(`${CONTEXT_KEY} && editorTextFocus && !editorReadonly`), k.when);
    assert.ok(k.args?.command, JSON.stringify(k));
  }
  // Tab must stay with snippets, suggestions and inline completions where they apply
  const tab = keys.find((k) => k.args?.command === 'tab');
  for (const ctx of ['!suggestWidgetVisible', '!inSnippetMode', '!inlineSuggestionVisible', '!editorTabMovesFocus']) {
    assert.ok(tab?.when.includes(ctx), `tab wrapper lacks ${ctx}`);
  }
  assert.equal(pkg.contributes.configuration.properties['crowd.typingSignals'].default, true);
});
