/**
 * Telling the user's edits from an inline agent's by OBSERVING the editor, never by
 * intercepting input.
 *
 * WHY: the bridge used to register the editor's `type` command (and bind 25 keys to
 * wrappers) so every keystroke passed through the extension host before the editor applied
 * it. That detour is asynchronous while the editor's own keybindings are not: in code-server
 * an Enter typed right after a character while a suggestion showed overtook the character
 * (8 of 19 tries: `del self.items[skuu]else:`), a Tab extension was shadowed, a modal
 * editing extension failed to start ("command 'type' already exists"), and turning the
 * setting off mid-session made all later typing `agent` (19 of 19). No interception can be
 * made transparent, so the bridge intercepts nothing: what the user types reaches the editor
 * exactly as without the extension (tests/bridge/test_typing_corpus.py types a keystroke
 * corpus with the bridge on and off and compares the documents).
 *
 * What it observes instead: in the extension host, `onDidChangeTextDocument` fires before
 * the editor's selection update for the same edit arrives, so the visible editors'
 * selections at that moment are the cursors the edit was made at. An edit is the user's
 * when it is made at a cursor: a change on a line a cursor (or a selection) is on — typing,
 * Backspace/Delete, Enter with auto-indent, auto-closed brackets, a completion replacing the
 * word before the cursor, multi-cursor edits, paste, comment/indent/move line, Vim-style
 * commands. An edit that only inserts white space (format document, re-indent) is the
 * user's too: inline agents write code. Edits while the document is being saved (format on
 * save, code actions on save) are the user's. Anything else in a visible editor is made
 * away from every cursor: an inline agent writing through `workspace.applyEdit` /
 * `TextEditor.edit`.
 *
 * The bridge tells the sidecar its verdict with the existing `user_input` licence (sent
 * right before the edit, in the same batch): the sidecar's own rules (undo/redo, an editor
 * reload after a disk write, user command brackets) still come first. Whether the bridge
 * sends these at all is said with `user_input {what: "signals", on}` on every (re)connect
 * and whenever the setting changes, so switching it off mid-session gives back the core's
 * default instead of turning later typing into agent edits.
 *
 * This module has no `vscode` import so it is unit tested in plain Node.
 */

/** The context/setting name (kept from the interception days: users may have set it). */
export const SETTING = 'typingSignals';

export interface Pos {
  line: number;
  character: number;
}

/** One content change of a document change event, in the coordinates before the edit. */
export interface ObservedChange {
  start: Pos;
  end: Pos;
  text: string;
}

/** A selection (start <= end) of an editor showing the document, before the edit. */
export interface Span {
  start: Pos;
  end: Pos;
}

/**
 * `cursor`: made at a cursor; `blank`: inserts only white space (formatting); `save`: made
 * while the document is being saved; `away`: none of these (an inline agent); `skip`: not
 * judged here (undo/redo: the sidecar's rule; no editor shows the document).
 */
export type Verdict = 'cursor' | 'blank' | 'save' | 'away' | 'skip';

export interface EditContext {
  changes: readonly ObservedChange[];
  /** Selections of every visible editor of the document; empty when none shows it. */
  selections: readonly Span[];
  /** TextDocumentChangeReason: undo/redo are the sidecar's business. */
  reason: 'undo' | 'redo' | null;
  /** A save of this document is in progress (between onWillSave and onDidSave). */
  saving: boolean;
}

function onLinesOf(change: ObservedChange, sel: Span): boolean {
  return change.start.line <= sel.end.line && change.end.line >= sel.start.line;
}

export function classifyEdit(ctx: EditContext): Verdict {
  if (ctx.reason !== null || ctx.changes.length === 0) {
    return 'skip';
  }
  if (ctx.saving) {
    return 'save';
  }
  if (ctx.selections.length === 0) {
    return 'skip';
  }
  if (ctx.changes.some((c) => ctx.selections.some((s) => onLinesOf(c, s)))) {
    return 'cursor';
  }
  const inserted = ctx.changes.map((c) => c.text).join('');
  if (inserted.length > 0 && inserted.trim() === '') {
    return 'blank';
  }
  return 'away';
}

/** Verdicts that license the edit as the user's. */
export function isUsers(verdict: Verdict): boolean {
  return verdict === 'cursor' || verdict === 'blank' || verdict === 'save';
}

/** The licence sent right before a user's edit (docs/protocol.md `user_input`). */
export function licenceEvent(verdict: Verdict): { kind: 'user_input'; what: 'key'; command: string } {
  return { kind: 'user_input', what: 'key', command: `observed.${verdict}` };
}

/** Tells the sidecar whether licences follow (a change mid-session must reach it). */
export function modeEvent(on: boolean): { kind: 'user_input'; what: 'signals'; on: boolean } {
  return { kind: 'user_input', what: 'signals', on };
}
