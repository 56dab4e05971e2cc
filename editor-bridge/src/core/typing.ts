/**
 * Per-keystroke input signals: what lets the sidecar tell the user's edits from an inline
 * agent's (an extension writing through `workspace.applyEdit` / `TextEditor.edit` with no
 * user input).
 *
 * WHY this way: VS Code has no public "the user pressed a key" event. What the API allows is
 * the technique Vim emulators use: an extension may register the editor's overridable input
 * commands (`type`, `replacePreviousChar`, `compositionType`, `paste`, `cut`); the editor then
 * calls the extension for every keystroke, and the extension forwards to `default:<command>`
 * (VS Code keeps the original under that name). The bridge emits one cheap `user_input`
 * event per call, pushed into the batcher *before* the edit exists, so the sidecar always
 * sees the signal before (or in the same batch as) the edit it explains. Editing keys that
 * are keybindings (Backspace, Delete, Tab, accepting a suggestion...) go through
 * `crowd.input.key` (package.json binds them with the defaults' `when` clauses, gated by
 * the `crowd.typingSignals` context key) which emits the signal and runs the original.
 *
 * Only one extension can own `type`. When another one does (VSCodeVim, vscode-neovim,
 * Dance...), the bridge sends no per-keystroke signal at all: the sidecar then keeps its
 * default (edits in visible editors are the user's), because a partial signal would turn
 * the user's own typing into "agent" edits. This module holds the decisions; it has no
 * `vscode` import so it is unit tested in plain Node.
 */

/** Extensions known to register `type` themselves (checked before trying to register). */
export const CONFLICTING_EXTENSIONS: readonly string[] = [
  'vscodevim.vim',
  'asvetliakov.vscode-neovim',
  'vscode-neovim.vscode-neovim',
  'gregoire.dance',
];

/** Signal kinds of `user_input.what` (docs/protocol.md). */
export type InputWhat = 'type' | 'paste' | 'key' | 'keybinding';

/** Overridable editor input commands -> the signal each call emits. */
export const OVERRIDES: Readonly<Record<string, InputWhat>> = {
  type: 'type',
  replacePreviousChar: 'type', // dead keys / IME replacing the previous character
  compositionType: 'type',     // IME composition
  paste: 'paste',
  cut: 'key',
};

/** The context key that enables the `crowd.input.key` keybindings. */
export const CONTEXT_KEY = 'crowd.typingSignals';

export interface DisposableLike {
  dispose(): unknown;
}

export type Registrar = (id: string, handler: (args?: unknown) => unknown) => DisposableLike;

export interface OverrideResult {
  ok: boolean;
  disposables: DisposableLike[];
  /** Why signals are off (a conflict), for the log and the status bar tooltip. */
  reason?: string;
}

/** The first installed extension that owns `type`, if any. */
export function findConflict(installed: (id: string) => boolean): string | undefined {
  return CONFLICTING_EXTENSIONS.find((id) => installed(id));
}

/**
 * Register every override or none: if one fails (another extension owns it), the ones
 * already registered are disposed, so the editor's own commands are back in place.
 */
export function registerOverrides(register: Registrar, handlerFor: (id: string, what: InputWhat) => (args?: unknown) => unknown,
  conflict?: string): OverrideResult {
  if (conflict) {
    return { ok: false, disposables: [], reason: `${conflict} owns the editor's typing commands` };
  }
  const done: DisposableLike[] = [];
  for (const [id, what] of Object.entries(OVERRIDES)) {
    try {
      done.push(register(id, handlerFor(id, what)));
    } catch (err) {
      for (const d of done) {
        d.dispose();
      }
      const message = err instanceof Error ? err.message : String(err);
      return { ok: false, disposables: [], reason: `another extension owns the '${id}' command (${message})` };
    }
  }
  return { ok: true, disposables: done };
}

/** Arguments of `crowd.input.key` as package.json's keybindings pass them. */
export interface KeyArgs {
  command: string;
  what?: InputWhat;
}

export function parseKeyArgs(args: unknown): KeyArgs | undefined {
  if (!args || typeof args !== 'object') {
    return undefined;
  }
  const a = args as Record<string, unknown>;
  if (typeof a.command !== 'string' || !a.command) {
    return undefined;
  }
  const what = a.what === 'keybinding' ? 'keybinding' : 'key';
  return { command: a.command, what };
}
