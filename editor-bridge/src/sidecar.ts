/**
 * The sidecar process: started with vscode-languageclient over stdio, restarted with
 * backoff after a crash, polled for its status so the UI never claims more than it knows.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as vscode from 'vscode';
import {
  CloseAction, ErrorAction, LanguageClient, LanguageClientOptions, ServerOptions, State, TransportKind,
} from 'vscode-languageclient/node';
import { Backoff } from './core/backoff';
import { Fixed, drifted } from './core/drift';
import { continuedSession } from './core/sessionMemory';
import { RECORDINGS_GITIGNORE, defaultRecordingsDir, selfRecording } from './core/ownRecordings';
import { noPythonMessage } from './core/pythonProbe';
import { ClientEvent, EVENTS_NOTIFICATION, REQUESTS, STATUS_CHANGED_NOTIFICATION, SidecarStatus } from './core/protocol';
import type { Connection } from './core/statusModel';
import { log } from './log';
import { provisioned, provisionSidecar, readManifest } from './provision';
import { probePython, which } from './python';
import { BridgeSettings, readSettings, sidecarSettings } from './settings';

const STATUS_POLL_MS = 3_000;

export interface SidecarInit {
  consent: () => boolean | null;
  clientInfo: { name: string; version: string };
  outputChannel: vscode.OutputChannel;
  /** The extension's global storage folder (its provisioned venv lives there). */
  storage: string;
  /** The wheels the .vsix ships (editor-bridge/python/). */
  bundle: string;
  /** The session this window recorded last (core/sessionMemory.ts), continued by a new process. */
  continueSession: () => string | undefined;
}

export class Sidecar implements vscode.Disposable {
  private client: LanguageClient | undefined;
  private readonly backoff = new Backoff();
  private restartTimer: ReturnType<typeof setTimeout> | undefined;
  private pollTimer: ReturnType<typeof setInterval> | undefined;
  private disposed = false;
  /** Bumped on every (re)start so callbacks of an old client are ignored. */
  private generation = 0;
  python: string | undefined;
  /** The settings this process was started with (compared by `driftedSettings`). */
  private startedWith: Fixed | undefined;
  /** The last process crashed: its successor starts a session of its own (core/sessionMemory.ts). */
  private crashed = false;

  private readonly connectionEmitter = new vscode.EventEmitter<Connection>();
  private readonly statusEmitter = new vscode.EventEmitter<SidecarStatus>();
  readonly onConnection = this.connectionEmitter.event;
  readonly onStatus = this.statusEmitter.event;

  constructor(private readonly init: SidecarInit) {}

  get running(): boolean {
    return this.client?.state === State.Running;
  }

  async start(): Promise<void> {
    const generation = ++this.generation;
    this.clearTimers();
    this.connectionEmitter.fire({ kind: 'starting' });
    const settings = readSettings();
    const own = this.ownRecordings(settings);
    if (own.insideRecordings) {
      const reason = `${own.insideRecordings} is inside crowd's recordings folder (crowd never records its own recordings)`;
      log.info(`not recording: ${reason}`);
      this.connectionEmitter.fire({ kind: 'disabled', reason });
      return;
    }
    if (own.excludes.length) {
      this.ignoreInGit(own.recordings);
    }
    // an untrusted workspace must not get to pick the program we run (its own .venv)
    const folders = vscode.workspace.isTrusted ? (vscode.workspace.workspaceFolders ?? []).map((f) => f.uri.fsPath) : [];
    const ownVenv = provisioned(this.init.storage, this.init.bundle);
    const probe = await probePython(settings.python, folders, ownVenv ? [{ python: ownVenv, from: 'the extension\'s own environment' }] : []);
    if (generation !== this.generation || this.disposed) {
      return;
    }
    if (!probe.found && !settings.python.trim()) {
      // nothing has crowd: make the extension's own environment from the wheel it ships
      const made = await provisionSidecar(this.init.storage, this.init.bundle, which);
      if (generation !== this.generation || this.disposed) {
        return;
      }
      if (made) {
        probe.found = { python: made, from: 'the extension\'s own environment' };
      }
    }
    if (!probe.found) {
      const manifest = readManifest(this.init.bundle);
      const reason = noPythonMessage(probe.tried, {
        platform: process.platform, setting: settings.python,
        wheel: manifest ? path.join(this.init.bundle, manifest.wheel) : undefined,
      });
      log.error(reason);
      this.connectionEmitter.fire({ kind: 'no_python', reason });
      void vscode.window.showErrorMessage(`crowd: ${reason}`, 'Select interpreter', 'Show log').then((pick) => {
        if (pick === 'Select interpreter') {
          void vscode.commands.executeCommand('crowd.selectInterpreter');
        } else if (pick === 'Show log') {
          log.show();
        }
      });
      return;
    }
    this.python = probe.found.python;
    this.startedWith = this.fixed(settings);
    const crashed = this.crashed;
    this.crashed = false;
    log.info(`starting sidecar: ${this.python} -m crowd.cli sidecar (interpreter from ${probe.found.from})`);

    const serverOptions: ServerOptions = {
      command: this.python,
      args: ['-m', 'crowd.cli', 'sidecar'],
      transport: TransportKind.stdio,
      options: { env: { ...process.env, PYTHONUNBUFFERED: '1' } },
    };
    const clientOptions: LanguageClientOptions = {
      documentSelector: [], // no LSP document sync: the bridge sends its own batched events
      outputChannel: this.init.outputChannel,
      initializationOptions: {
        consent: this.init.consent(),
        client: this.init.clientInfo,
        settings: sidecarSettings(settings, own.excludes),
        continueSession: continuedSession(crashed, this.init.continueSession()),
      },
      errorHandler: {
        error: () => ({ action: ErrorAction.Continue, handled: true }),
        closed: () => {
          this.onClosed(generation, 'the sidecar process exited');
          return { action: CloseAction.DoNotRestart, handled: true };
        },
      },
    };
    const client = new LanguageClient('crowd', 'crowd sidecar', serverOptions, clientOptions);
    this.client = client;
    client.onNotification(STATUS_CHANGED_NOTIFICATION, (status: SidecarStatus) => {
      if (generation === this.generation) {
        this.statusEmitter.fire(status);
      }
    });
    try {
      await client.start();
    } catch (err) {
      log.error(`sidecar failed to start: ${String(err)}`);
      this.onClosed(generation, `the sidecar failed to start (${String(err)})`);
      return;
    }
    if (generation !== this.generation || this.disposed) {
      return;
    }
    this.backoff.started(Date.now());
    this.connectionEmitter.fire({ kind: 'up' });
    const initial = client.initializeResult?.capabilities.experimental as { crowd?: { status?: SidecarStatus } } | undefined;
    if (initial?.crowd?.status) {
      this.statusEmitter.fire(initial.crowd.status);
    }
    this.pollTimer = setInterval(() => void this.pollStatus(generation), STATUS_POLL_MS);
    void this.pollStatus(generation);
  }

  private async pollStatus(generation: number): Promise<void> {
    try {
      const status = await this.request<SidecarStatus>(REQUESTS.status);
      if (generation === this.generation && status) {
        this.statusEmitter.fire(status);
      }
    } catch (err) {
      log.warn(`status request failed: ${String(err)}`);
    }
  }

  private onClosed(generation: number, reason: string): void {
    if (generation !== this.generation || this.disposed) {
      return;
    }
    this.clearTimers();
    this.client = undefined;
    this.crashed = true;
    const delay = this.backoff.failed(Date.now());
    log.error(`${reason}; restarting in ${delay} ms (failure ${this.backoff.failureCount})`);
    this.connectionEmitter.fire({ kind: 'down', reason, retryInMs: delay });
    this.restartTimer = setTimeout(() => void this.start(), delay);
  }

  /** Settings the running sidecar was started with that differ from the current ones. */
  driftedSettings(): string[] {
    if (!this.running) {
      return [];
    }
    return drifted(this.startedWith, this.fixed(readSettings()));
  }

  /** What a process is started with: the interpreter setting and initialize's settings. */
  private fixed(settings: BridgeSettings): Fixed {
    return { python: settings.python, ...sidecarSettings(settings, this.ownRecordings(settings).excludes) };
  }

  /** The recordings folder against the workspace folders (core/ownRecordings.ts). */
  private ownRecordings(settings: BridgeSettings) {
    const recordings = settings.exportPath.trim() || defaultRecordingsDir(process.env, os.homedir());
    const folders = (vscode.workspace.workspaceFolders ?? []).filter((f) => f.uri.scheme === 'file').map((f) => f.uri.fsPath);
    return { recordings, ...selfRecording(recordings, folders) };
  }

  /** A recordings folder inside a workspace gets a `.gitignore` of `*` (untracked in git otherwise). */
  private ignoreInGit(recordings: string): void {
    const file = path.join(recordings, '.gitignore');
    try {
      fs.mkdirSync(recordings, { recursive: true });
      if (!fs.existsSync(file)) {
        fs.writeFileSync(file, RECORDINGS_GITIGNORE);
      }
    } catch (err) {
      log.warn(`could not write ${file}: ${String(err)}`);
    }
  }

  /** Stop the current process (if any) and start a fresh one now. */
  async restart(): Promise<void> {
    const old = this.client;
    this.generation++; // the old client's close must not schedule a restart
    this.client = undefined;
    this.clearTimers();
    if (old) {
      await old.stop(5_000).catch((err) => log.warn(`stopping the old sidecar: ${String(err)}`));
    }
    await this.start();
  }

  notify(events: ClientEvent[]): void {
    const client = this.client;
    if (!client || client.state !== State.Running) {
      return;
    }
    client.sendNotification(EVENTS_NOTIFICATION, { events }).catch((err) => log.warn(`sending events failed: ${String(err)}`));
  }

  async request<T>(method: string, params?: unknown): Promise<T> {
    const client = this.client;
    if (!client || client.state !== State.Running) {
      throw new Error('the crowd sidecar is not running');
    }
    return params === undefined ? client.sendRequest<T>(method) : client.sendRequest<T>(method, params);
  }

  private clearTimers(): void {
    if (this.restartTimer) {
      clearTimeout(this.restartTimer);
      this.restartTimer = undefined;
    }
    if (this.pollTimer) {
      clearInterval(this.pollTimer);
      this.pollTimer = undefined;
    }
  }

  async dispose(): Promise<void> {
    this.disposed = true;
    this.clearTimers();
    const client = this.client;
    this.client = undefined;
    if (client) {
      await client.stop(3_000).catch(() => undefined);
    }
    this.connectionEmitter.dispose();
    this.statusEmitter.dispose();
  }
}
