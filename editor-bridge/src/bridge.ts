/**
 * The bridge's state: sidecar, status model, consent, event hub. Commands and the
 * activation code call into it; it owns no UI besides what the commands show.
 */
import * as os from 'os';
import * as path from 'path';
import * as vscode from 'vscode';
import { ConsentDecision, ConsentStore } from './core/consent';
import { DriftGate } from './core/drift';
import { OverheadMeter } from './core/overhead';
import { defaultRecordingsDir } from './core/ownRecordings';
import { PanicEscalator } from './core/panic';
import { SessionMemory } from './core/sessionMemory';
import { PanicResult, REQUESTS, SidecarStatus } from './core/protocol';
import { StatusModel } from './core/statusModel';
import { openEvent } from './forward/documents';
import { activeEditorEvent, viewportEvent } from './forward/editors';
import { TerminalIds, terminalOpenEvent } from './forward/terminals';
import type { TypingSignals } from './forward/typing';
import { recordable } from './forward/uris';
import { EventHub } from './hub';
import { log } from './log';
import { readSettings } from './settings';
import { Sidecar } from './sidecar';

export class Bridge implements vscode.Disposable {
  readonly model = new StatusModel(10_000);
  readonly meter = new OverheadMeter(() => performance.now());
  readonly hub: EventHub;
  readonly consent: ConsentStore;
  readonly terminalIds = new TerminalIds();
  readonly sidecar: Sidecar;
  /** Per-keystroke input signals (set by activation; absent in tests of the bridge alone). */
  typing: TypingSignals | undefined;
  private readonly escalator: PanicEscalator;
  private readonly sessions: SessionMemory;
  private lastState: string | undefined;
  private reconciling = false;
  private readonly driftGate = new DriftGate();
  private readonly changed = new vscode.EventEmitter<void>();
  /** Fires whenever the model changed (status bar re-renders). */
  readonly onDidChange = this.changed.event;

  constructor(context: vscode.ExtensionContext, outputChannel: vscode.OutputChannel) {
    const settings = readSettings();
    this.consent = new ConsentStore(context.globalState);
    this.sessions = new SessionMemory(context.workspaceState);
    this.escalator = new PanicEscalator(settings.panicMinutes);
    this.sidecar = new Sidecar({
      consent: () => this.consent.forSidecar(),
      clientInfo: { name: `${vscode.env.appName} ${vscode.version}`, version: String(context.extension.packageJSON.version ?? '') },
      outputChannel,
      storage: context.globalStorageUri.fsPath,
      bundle: context.asAbsolutePath('python'),
      continueSession: () => this.sessions.last(),
    });
    this.hub = new EventHub((events) => this.sidecar.notify(events), this.meter, settings.batchMilliseconds,
      (ms, events) => log.info(`slow send: ${ms.toFixed(1)} ms for ${events.length} events (${[...new Set(events.map((e) => e.kind))].join(', ')})`));
    this.hub.enabled = this.consent.decision() !== 'declined';
    this.sidecar.onConnection((c) => {
      this.model.setConnection(c);
      if (c.kind === 'up') {
        this.resync();
      }
      this.changed.fire();
    });
    this.sidecar.onStatus((s) => this.onStatus(s));
  }

  /**
   * Restart a sidecar started with settings that no longer hold (core/drift.ts): at once
   * when `now` (before consent is granted), else once the drift held for 3 s.
   */
  async reconcile(now = false): Promise<boolean> {
    const keys = this.sidecar.driftedSettings();
    const restart = now ? keys.length > 0 : this.driftGate.observe(keys, Date.now());
    if (!restart || this.reconciling) {
      return false;
    }
    this.reconciling = true;
    try {
      log.warn(`the sidecar was started with other settings (${keys.join(', ')}): restarting it`);
      await this.sidecar.restart();
    } finally {
      this.reconciling = false;
    }
    return true;
  }

  private onStatus(status: SidecarStatus): void {
    void this.reconcile();
    this.model.setStatus(status, Date.now());
    void this.sessions.remember(status);
    if (status.state !== this.lastState) {
      log.info(`sidecar state: ${status.state}${status.sessionId ? ` (session ${status.sessionId})` : ''}`);
      this.lastState = status.state;
    }
    this.changed.fire();
  }

  /** Tell the sidecar everything it cannot have seen: open documents, editors, terminals. */
  resync(): void {
    if (this.typing) {
      this.hub.emit(this.typing.modeEvent()); // a new sidecar must know whether licences follow
    }
    for (const doc of vscode.workspace.textDocuments) {
      if (recordable(doc.uri)) {
        this.hub.emit(openEvent(doc));
      }
    }
    for (const t of vscode.window.terminals) {
      this.hub.emit(terminalOpenEvent(this.terminalIds, t));
    }
    this.hub.emit(activeEditorEvent(vscode.window.activeTextEditor, null));
    this.hub.emit(viewportEvent());
    this.hub.flush();
  }

  async request<T = SidecarStatus>(method: string, params?: unknown): Promise<T> {
    this.hub.flush(); // the request must see every event that came before it
    const result = await this.sidecar.request<T>(method, params);
    if (result && typeof result === 'object' && 'state' in (result as object)) {
      this.onStatus(result as unknown as SidecarStatus);
    }
    return result;
  }

  async applyConsent(decision: ConsentDecision): Promise<void> {
    const granted = decision === 'granted';
    if (!granted) {
      this.hub.batcher.discard();
    }
    const wasEnabled = this.hub.enabled;
    this.hub.enabled = granted;
    log.info(`consent ${decision}`);
    if (granted && !wasEnabled) {
      this.resync(); // nothing was sent while declined: the sidecar's document state is stale
    }
    if (granted && await this.reconcile(true)) {
      return; // the new sidecar was started with the consent just stored
    }
    if (this.sidecar.running) {
      await this.request(REQUESTS.consent, { granted });
    }
  }

  /** Minutes the next press of panic deletes (it grows while presses follow each other). */
  nextPanicMinutes(): number {
    this.escalator.setBase(readSettings().panicMinutes);
    return this.escalator.peek(Date.now());
  }

  async panic(): Promise<PanicResult> {
    this.escalator.setBase(readSettings().panicMinutes);
    const minutes = this.escalator.press(Date.now());
    const dropped = this.hub.batcher.discard(); // still-unsent events are inside the window by definition
    const result = await this.sidecar.request<PanicResult>(REQUESTS.panic, { minutes });
    if (result?.status) {
      this.onStatus(result.status);
    }
    log.info(`panic: deleted the last ${minutes} min (${result?.removed ?? 0} events recorded, ${dropped} unsent)`);
    return result;
  }

  /** The recordings folder: this session's parent, else the configured / default one. */
  recordingsFolder(): string {
    const session = this.currentRecording();
    if (session) {
      return path.dirname(session);
    }
    return readSettings().exportPath.trim() || defaultRecordingsDir(process.env, os.homedir());
  }

  /** The recording folder being written now, if any. */
  currentRecording(): string | undefined {
    const session = this.model.getStatus()?.recording;
    return typeof session === 'string' && session ? session : undefined;
  }

  statsReport(): Record<string, unknown> {
    return {
      ...this.meter.report(),
      sentEvents: this.hub.batcher.sentEvents,
      sentBatches: this.hub.batcher.sentBatches,
      kinds: Object.fromEntries(this.hub.counts),
      python: this.sidecar.python ?? null,
      state: this.model.view(Date.now()).mode,
      typingSignals: this.typing ? this.typing.report() : null,
    };
  }

  dispose(): void {
    this.hub.flush();
    void this.sidecar.dispose();
    this.changed.dispose();
  }
}
