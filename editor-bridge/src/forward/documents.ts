/**
 * Text documents: open, change (with undo/redo reason, visibility and the visible ranges of
 * the editors showing the document at that moment), save, close.
 */
import * as vscode from 'vscode';
import type { EventHub } from '../hub';
import { recordable } from './uris';
import { visibleRangesOf } from './editors';

function reasonOf(reason: vscode.TextDocumentChangeReason | undefined): 'undo' | 'redo' | null {
  if (reason === vscode.TextDocumentChangeReason.Undo) {
    return 'undo';
  }
  if (reason === vscode.TextDocumentChangeReason.Redo) {
    return 'redo';
  }
  return null;
}

export function openEvent(doc: vscode.TextDocument) {
  return { kind: 'document_open' as const, uri: doc.uri.toString(), text: doc.getText(), languageId: doc.languageId, version: doc.version };
}

/** Called before each forwarded change (the typing observer sends its licence first). */
export type BeforeChange = (e: vscode.TextDocumentChangeEvent, reason: 'undo' | 'redo' | null) => void;

export function onChange(hub: EventHub, e: vscode.TextDocumentChangeEvent, before?: BeforeChange): void {
  const doc = e.document;
  if (e.contentChanges.length === 0 || !recordable(doc.uri)) {
    return; // dirty-state-only changes carry no edit
  }
  const editors = vscode.window.visibleTextEditors.filter((ed) => ed.document === doc);
  const active = vscode.window.activeTextEditor?.document === doc;
  const changes = e.contentChanges.map((c) => ({ offset: c.rangeOffset, length: c.rangeLength, text: c.text }));
  const reason = reasonOf(e.reason);
  before?.(e, reason);
  hub.emit({
    kind: 'document_change',
    uri: doc.uri.toString(),
    version: doc.version,
    changes,
    reason,
    visible: editors.length > 0,
    active,
    visibleRanges: editors.length ? visibleRangesOf(editors[0]) : [],
    time: Date.now(),
  });
}

export function registerDocuments(hub: EventHub, before?: BeforeChange): vscode.Disposable[] {
  const m = hub.meter;
  return [
    vscode.workspace.onDidOpenTextDocument(m.measure('document_open', (doc: vscode.TextDocument) => {
      if (recordable(doc.uri)) {
        hub.emit(openEvent(doc));
      }
    })),
    vscode.workspace.onDidChangeTextDocument(m.measure('document_change', (e: vscode.TextDocumentChangeEvent) => onChange(hub, e, before))),
    vscode.workspace.onDidSaveTextDocument(m.measure('document_save', (doc: vscode.TextDocument) => {
      if (recordable(doc.uri)) {
        hub.emit({ kind: 'document_save', uri: doc.uri.toString(), version: doc.version, time: Date.now() });
      }
    })),
    vscode.workspace.onDidCloseTextDocument(m.measure('document_close', (doc: vscode.TextDocument) => {
      if (recordable(doc.uri)) {
        hub.emit({ kind: 'document_close', uri: doc.uri.toString(), time: Date.now() });
      }
    })),
  ];
}
