import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { WRAPPED } from '../../src/core/wrapped';

const pkg = JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', 'package.json'), 'utf8'));

test('every wrapper keybinding in package.json has a wrapper, and every wrapper a key and a title', () => {
  const bound = new Set<string>(pkg.contributes.keybindings.map((k: { command: string }) => k.command));
  const titled = new Set<string>(pkg.contributes.commands.map((c: { command: string }) => c.command));
  for (const cmd of bound) {
    if (cmd.startsWith('crowd.run.')) {
      assert.ok(cmd.slice('crowd.run.'.length) in WRAPPED, `${cmd} is bound but not wrapped`);
    }
  }
  for (const name of Object.keys(WRAPPED)) {
    assert.ok(bound.has(`crowd.run.${name}`), `crowd.run.${name} has no keybinding`);
    assert.ok(titled.has(`crowd.run.${name}`), `crowd.run.${name} has no title`);
  }
});

test('wrapper keybindings only apply where an editor (or the search view) has focus', () => {
  // F2 in the explorer must stay the explorer's rename
  for (const k of pkg.contributes.keybindings as { command: string; when: string }[]) {
    if (k.command.startsWith('crowd.run.')) {
      assert.match(k.when, /editorTextFocus|textInputFocus|editorFocus|searchViewletVisible/, k.command);
    }
  }
});

test('engine range allows the shell-execution API (VS Code >= 1.93)', () => {
  assert.equal(pkg.engines.vscode, '^1.93.0');
  assert.ok(pkg.contributes.terminal.profiles.some((p: { id: string }) => p.id === 'crowd.term'));
});
