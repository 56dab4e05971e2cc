/** Which documents the bridge reports: files on disk only (no output panes, git views, settings UI). */
import * as vscode from 'vscode';

export function recordable(uri: vscode.Uri): boolean {
  return uri.scheme === 'file';
}

export function uriString(uri: vscode.Uri): string {
  return uri.toString();
}
