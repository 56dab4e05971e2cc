/** Window focus: whether the user is looking at the editor at all. */
import * as vscode from 'vscode';
import type { EventHub } from '../hub';

export function registerWindow(hub: EventHub): vscode.Disposable[] {
  return [
    vscode.window.onDidChangeWindowState(hub.meter.measure('window_focus', (s: vscode.WindowState) => {
      hub.emit({ kind: 'window_focus', focused: s.focused, time: Date.now() });
    })),
  ];
}
