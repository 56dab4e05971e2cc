/**
 * File operations the user made through the editor (explorer create/delete/rename/move,
 * and WorkspaceEdits of refactorings). Changes on disk by other programs are the sidecar's
 * watcher's business; these events tell it which of those it caused itself.
 */
import * as vscode from 'vscode';
import type { EventHub } from '../hub';
import { recordable } from './uris';

export function registerFiles(hub: EventHub): vscode.Disposable[] {
  const m = hub.meter;
  const uris = (files: readonly vscode.Uri[]) => files.filter(recordable).map((u) => ({ uri: u.toString() }));
  return [
    vscode.workspace.onDidCreateFiles(m.measure('file_op', (e: vscode.FileCreateEvent) => {
      hub.emit({ kind: 'file_op', op: 'create', files: uris(e.files), time: Date.now() });
    })),
    vscode.workspace.onDidDeleteFiles(m.measure('file_op', (e: vscode.FileDeleteEvent) => {
      hub.emit({ kind: 'file_op', op: 'delete', files: uris(e.files), time: Date.now() });
    })),
    vscode.workspace.onDidRenameFiles(m.measure('file_op', (e: vscode.FileRenameEvent) => {
      const files = e.files
        .filter((f) => recordable(f.oldUri) || recordable(f.newUri))
        .map((f) => ({ oldUri: f.oldUri.toString(), newUri: f.newUri.toString() }));
      hub.emit({ kind: 'file_op', op: 'rename', files, time: Date.now() });
    })),
  ];
}
