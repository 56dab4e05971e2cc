/**
 * Input attribution by observation (see core/typing.ts for why nothing is intercepted):
 * judges each document change from the editors' selections at that moment and sends the
 * sidecar a licence before each edit judged the user's. Controlled by the
 * `crowd.typingSignals` setting; its state reaches the sidecar on every (re)connect and
 * every change.
 */
import * as vscode from 'vscode';
import { EditContext, Span, Verdict, classifyEdit, isUsers, licenceEvent, modeEvent } from '../core/typing';
import type { EventHub } from '../hub';
import { log } from '../log';

/** A save whose onDidSave never came (cancelled) stops counting after this long. */
const SAVE_WINDOW_MS = 5_000;

function spanOf(s: vscode.Selection): Span {
  return { start: { line: s.start.line, character: s.start.character }, end: { line: s.end.line, character: s.end.character } };
}

export class TypingSignals implements vscode.Disposable {
  /** True while licences are sent. */
  on = false;
  /** Why they are not; empty while on. */
  reason = '';
  private readonly verdicts = new Map<Verdict, number>();
  private readonly saving = new Map<string, number>();
  private readonly fixed: vscode.Disposable[];
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChange = this.changed.event;

  constructor(private readonly hub: EventHub) {
    this.fixed = [
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (e.affectsConfiguration('crowd.typingSignals')) {
          this.apply();
        }
      }),
      vscode.workspace.onWillSaveTextDocument((e) => {
        this.saving.set(e.document.uri.toString(), Date.now());
      }),
      vscode.workspace.onDidSaveTextDocument((doc) => {
        this.saving.delete(doc.uri.toString());
      }),
    ];
    this.apply(false);
  }

  /** (Re)decide from the setting; tell the sidecar unless it is the first decision. */
  apply(announce = true): void {
    const wanted = vscode.workspace.getConfiguration('crowd').get<boolean>('typingSignals', true);
    const was = this.on;
    this.on = wanted;
    this.reason = wanted ? '' : 'the crowd.typingSignals setting is off';
    if (announce && was !== this.on) {
      this.hub.emit(this.modeEvent());
      this.hub.flush();
      log.info(`typing signals ${this.on ? 'on' : 'off'} (told the sidecar)`);
    }
    this.changed.fire();
  }

  /** The mode, for the sidecar (sent on every connect, see Bridge.resync). */
  modeEvent(): ReturnType<typeof modeEvent> {
    return modeEvent(this.on);
  }

  /** Called by the document forwarder right before it emits a `document_change`. */
  beforeChange(e: vscode.TextDocumentChangeEvent, reason: 'undo' | 'redo' | null): void {
    if (!this.on) {
      return;
    }
    const doc = e.document;
    const key = doc.uri.toString();
    const since = this.saving.get(key);
    const saving = since !== undefined && Date.now() - since < SAVE_WINDOW_MS;
    const selections: Span[] = [];
    for (const editor of vscode.window.visibleTextEditors) {
      if (editor.document === doc) {
        selections.push(...editor.selections.map(spanOf));
      }
    }
    const ctx: EditContext = {
      changes: e.contentChanges.map((c) => ({
        start: { line: c.range.start.line, character: c.range.start.character },
        end: { line: c.range.end.line, character: c.range.end.character },
        text: c.text,
      })),
      selections,
      reason,
      saving,
    };
    const verdict = classifyEdit(ctx);
    this.verdicts.set(verdict, (this.verdicts.get(verdict) ?? 0) + 1);
    if (isUsers(verdict)) {
      this.hub.emit(licenceEvent(verdict));
    }
  }

  /** What the statistics command reports. */
  report(): Record<string, unknown> {
    return { on: this.on, reason: this.reason, verdicts: Object.fromEntries(this.verdicts) };
  }

  /** Status bar tooltip addition ('' while on). */
  tooltip(): string {
    return this.on ? '' : `Inline-agent detection is off: ${this.reason}.`;
  }

  dispose(): void {
    for (const d of this.fixed) {
      d.dispose();
    }
    this.changed.dispose();
  }
}
