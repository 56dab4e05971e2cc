/**
 * User commands that edit beyond the viewport (rename, format, replace all, refactorings,
 * quick fixes, organize imports).
 *
 * VS Code has no public "a command ran" event (onDidExecuteCommand is a proposed API) and a
 * built-in command cannot be re-registered. What the API allows: the extension contributes
 * keybindings (package.json, same keys and `when` clauses as the defaults, which extension
 * keybindings override) to `crowd.run.*` wrappers; each wrapper emits `editor_command`
 * start, runs the original command with its arguments, and emits end when it settles. The
 * sidecar thus knows that the edits in between, possibly in files no editor shows, are the
 * user's. Commands started from menus or the command palette bypass keybindings; for those
 * the per-edit `visible`/`active` flags still say that the edit happened off-screen.
 */
import * as vscode from 'vscode';
import { WRAPPED } from '../core/wrapped';
import type { EventHub } from '../hub';


export function registerInterceptors(hub: EventHub): vscode.Disposable[] {
  return Object.entries(WRAPPED).map(([name, command]) =>
    vscode.commands.registerCommand(`crowd.run.${name}`, async (...args: unknown[]) => {
      hub.emit({ kind: 'editor_command', command, phase: 'start', time: Date.now() });
      try {
        return await vscode.commands.executeCommand(command, ...args);
      } finally {
        hub.emit({ kind: 'editor_command', command, phase: 'end', time: Date.now() });
      }
    }),
  );
}
