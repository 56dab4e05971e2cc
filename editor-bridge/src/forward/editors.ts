/**
 * Editors: selections (all cursors) and visible ranges of every visible editor, and which
 * editor is active. A viewport event always describes all visible editors, so a replay
 * knows everything the user could see.
 */
import * as vscode from 'vscode';
import type { EventHub } from '../hub';
import { recordable } from './uris';

export function visibleRangesOf(editor: vscode.TextEditor): [number, number][] {
  return editor.visibleRanges.map((r) => [r.start.line, r.end.line]);
}

function selectionsOf(editor: vscode.TextEditor): { anchor: number; active: number }[] {
  const doc = editor.document;
  return editor.selections.map((s) => ({ anchor: doc.offsetAt(s.anchor), active: doc.offsetAt(s.active) }));
}

export function viewportEvent() {
  const activeEditor = vscode.window.activeTextEditor;
  const editors = vscode.window.visibleTextEditors
    .filter((ed) => recordable(ed.document.uri))
    .map((ed) => ({
      uri: ed.document.uri.toString(),
      visibleRanges: visibleRangesOf(ed),
      selections: selectionsOf(ed),
      active: ed === activeEditor,
    }));
  return { kind: 'viewport' as const, editors, time: Date.now() };
}

export function activeEditorEvent(editor: vscode.TextEditor | undefined, previous: string | null) {
  const uri = editor && recordable(editor.document.uri) ? editor.document.uri.toString() : null;
  return { kind: 'active_editor' as const, uri, previous, time: Date.now() };
}

export function registerEditors(hub: EventHub): vscode.Disposable[] {
  const m = hub.meter;
  let previous: string | null = null;
  const ed = vscode.window.activeTextEditor;
  if (ed && recordable(ed.document.uri)) {
    previous = ed.document.uri.toString();
  }
  return [
    vscode.window.onDidChangeTextEditorSelection(m.measure('selection', (e: vscode.TextEditorSelectionChangeEvent) => {
      if (!recordable(e.textEditor.document.uri)) {
        return;
      }
      const doc = e.textEditor.document;
      hub.emit({
        kind: 'selection',
        uri: doc.uri.toString(),
        selections: e.selections.map((s) => ({ anchor: doc.offsetAt(s.anchor), active: doc.offsetAt(s.active) })),
        how: e.kind === vscode.TextEditorSelectionChangeKind.Keyboard ? 'keyboard'
          : e.kind === vscode.TextEditorSelectionChangeKind.Mouse ? 'mouse'
            : e.kind === vscode.TextEditorSelectionChangeKind.Command ? 'command' : null,
        time: Date.now(),
      });
    })),
    vscode.window.onDidChangeTextEditorVisibleRanges(m.measure('viewport', () => hub.emit(viewportEvent()))),
    vscode.window.onDidChangeVisibleTextEditors(m.measure('viewport', () => hub.emit(viewportEvent()))),
    vscode.window.onDidChangeActiveTextEditor(m.measure('active_editor', (editor: vscode.TextEditor | undefined) => {
      const event = activeEditorEvent(editor, previous);
      previous = event.uri;
      hub.emit(event);
      hub.emit(viewportEvent());
    })),
  ];
}
