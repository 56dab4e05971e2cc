/**
 * The per-keystroke `user_input` signals (see core/typing.ts for why and how): overrides
 * of the editor's input commands, the `crowd.input.key` keybinding wrapper, and a paste
 * provider (pastes handled by the editor's paste controller never call the `paste` command).
 * Controlled by the `crowd.typingSignals` setting; turned off, with the reason logged and
 * shown in the status bar tooltip, when another extension owns `type`.
 */
import * as vscode from 'vscode';
import {
  CONTEXT_KEY, DisposableLike, InputWhat, OverrideResult, findConflict, parseKeyArgs, registerOverrides,
} from '../core/typing';
import type { EventHub } from '../hub';
import { log } from '../log';

interface PasteApi {
  registerDocumentPasteEditProvider?: (selector: vscode.DocumentSelector, provider: unknown, metadata: unknown) => vscode.Disposable;
}

export class TypingSignals implements vscode.Disposable {
  /** True while signals are sent. */
  on = false;
  /** Why they are not (setting off, or a conflict); empty while on. */
  reason = '';
  private registered: DisposableLike[] = [];
  /** ms from a keystroke reaching the bridge until the editor applied it (the detour's latency). */
  readonly roundTrips: number[] = [];
  private readonly fixed: vscode.Disposable[];
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChange = this.changed.event;

  constructor(private readonly hub: EventHub) {
    this.fixed = [
      // Not declared in package.json's `commands` on purpose: a declared command gets an
      // implicit `onCommand:` activation event, and the renderer then holds the first call
      // until every extension host confirmed activation, long enough for the keystrokes
      // typed after that first Backspace to overtake it.
      vscode.commands.registerCommand('crowd.input.key', (args: unknown) => this.key(args)),
      vscode.extensions.onDidChange(() => {
        const conflict = this.conflict();
        if (this.on && conflict) {
          this.apply(); // a Vim-like extension arrived: give `type` back to it
        }
      }),
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (e.affectsConfiguration('crowd.typingSignals')) {
          this.apply();
        }
      }),
    ];
    this.apply();
  }

  private conflict(): string | undefined {
    return findConflict((id) => vscode.extensions.getExtension(id) !== undefined);
  }

  /** (Re)decide from the setting and the installed extensions. */
  apply(): void {
    const wanted = vscode.workspace.getConfiguration('crowd').get<boolean>('typingSignals', true);
    this.release();
    let result: OverrideResult = { ok: false, disposables: [], reason: 'the crowd.typingSignals setting is off' };
    if (wanted) {
      result = registerOverrides(
        (id, handler) => vscode.commands.registerCommand(id, handler),
        (id, what) => this.forwarder(id, what),
        this.conflict(),
      );
    }
    this.registered = result.disposables;
    if (result.ok) {
      this.registered.push(...this.pasteProvider());
    }
    const was = this.on;
    this.on = result.ok;
    this.reason = result.ok ? '' : result.reason ?? '';
    void vscode.commands.executeCommand('setContext', CONTEXT_KEY, this.on);
    if (this.on) {
      log.info('typing signals on: inline-agent edits in visible editors can be told apart from typing');
    } else if (wanted || was) {
      (wanted ? log.warn : log.info)(`typing signals off (${this.reason}): inline-agent detection is off; `
        + 'edits in visible editors are recorded as the user\'s');
    }
    this.changed.fire();
  }

  /** What the statistics command reports about the signals. */
  report(): Record<string, unknown> {
    const sorted = [...this.roundTrips].sort((a, b) => a - b);
    const pct = (p: number) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] : null);
    return { on: this.on, reason: this.reason, keystrokes: sorted.length, roundTripP50Ms: pct(0.5), roundTripP99Ms: pct(0.99) };
  }

  /** Status bar tooltip addition ('' while signals are on). */
  tooltip(): string {
    return this.on ? '' : `Inline-agent detection is off: ${this.reason}.`;
  }

  private signal(what: InputWhat, command?: string, text?: string): void {
    if (text !== undefined) {
      this.hub.emit({ kind: 'user_input', what, text }); // the sidecar checks the edit against it
    } else {
      this.hub.emit(command ? { kind: 'user_input', what, command } : { kind: 'user_input', what });
    }
  }

  /** `type` & co.: the signal first (it must reach the sidecar before the edit), then the original. */
  private forwarder(id: string, what: InputWhat): (args?: unknown) => unknown {
    const original = `default:${id}`;
    const meter = this.hub.meter;
    const command = id === 'cut' ? 'cut' : undefined;
    const withText = what === 'type' || what === 'paste';
    return (args?: unknown) => {
      const t0 = performance.now();
      const text = withText ? (args as { text?: unknown } | undefined)?.text : undefined;
      this.signal(what, command, typeof text === 'string' ? text : undefined);
      const done = vscode.commands.executeCommand(original, args);
      meter.add('input', performance.now() - t0);
      if (this.roundTrips.length < 10_000) {
        done.then(() => this.roundTrips.push(performance.now() - t0), () => undefined);
      }
      return done;
    };
  }

  private key(args: unknown): Thenable<unknown> | undefined {
    const parsed = parseKeyArgs(args);
    if (!parsed) {
      log.error(`crowd.input.key needs {command}; got ${JSON.stringify(args)}`);
      return undefined;
    }
    const t0 = performance.now();
    if (this.on) {
      // the lines the cursors are on: the sidecar expects this key's edit there
      const editor = vscode.window.activeTextEditor;
      let lines: [number, number] | undefined;
      if (editor) {
        lines = [Infinity, -1];
        for (const s of editor.selections) {
          lines = [Math.min(lines[0], s.start.line), Math.max(lines[1], s.end.line)];
        }
      }
      this.hub.emit({ kind: 'user_input', what: parsed.what ?? 'key', command: parsed.command, ...(lines ? { lines } : {}) });
    }
    const done = vscode.commands.executeCommand(parsed.command);
    this.hub.meter.add('input', performance.now() - t0);
    return done;
  }

  /**
   * The editor's paste controller (on by default) applies most pastes itself, without the
   * `paste` command; it first asks every paste edit provider. This one provides nothing,
   * it only signals (API stable since VS Code 1.97; skipped where absent).
   */
  private pasteProvider(): vscode.Disposable[] {
    const api = vscode.languages as unknown as PasteApi;
    if (typeof api.registerDocumentPasteEditProvider !== 'function') {
      return [];
    }
    try {
      return [api.registerDocumentPasteEditProvider({ scheme: 'file' }, {
        provideDocumentPasteEdits: async (_doc: unknown, _ranges: unknown, data: vscode.DataTransfer) => {
          // the paste controller waits for its providers: this signal precedes the edit
          const text = await Promise.resolve(data.get('text/plain')?.asString()).catch(() => undefined);
          this.signal('paste', undefined, typeof text === 'string' ? text : undefined);
          return undefined;
        },
      }, { providedPasteEditKinds: [], pasteMimeTypes: ['text/plain'] })];
    } catch (err) {
      log.warn(`no paste provider (${String(err)}): pastes through the paste controller carry no signal`);
      return [];
    }
  }

  private release(): void {
    for (const d of this.registered) {
      d.dispose();
    }
    this.registered = [];
  }

  dispose(): void {
    this.release();
    for (const d of this.fixed) {
      d.dispose();
    }
    this.changed.dispose();
  }
}
