/**
 * The Recordings view (Explorer): every recording in the recordings folder, newest first,
 * with replay (a webview: it works in code-server and remote windows, where opening an HTML
 * file with the OS did nothing visible), reveal and delete. The recording being written is
 * marked and cannot be deleted from here (panic is for that).
 */
import * as cp from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import * as vscode from 'vscode';
import { RecordingEntry, deleteRecording, formatBytes, listRecordings } from './core/recordings';
import { log } from './log';

export interface RecordingsSource {
  /** The folder recordings are written to. */
  folder(): string;
  /** The recording being written now, if any. */
  current(): string | undefined;
  python(): string | undefined;
  /** Make the sidecar write out what it holds (before a replay of the current recording). */
  flush(): Promise<unknown>;
}

class Item extends vscode.TreeItem {
  constructor(readonly entry: RecordingEntry, current: boolean) {
    super(entry.name, vscode.TreeItemCollapsibleState.None);
    this.description = `${current ? 'recording now · ' : ''}${formatBytes(entry.bytes)}`;
    this.tooltip = `${entry.path}\n${entry.segments} segment(s), ${formatBytes(entry.bytes)}, last written ${new Date(entry.modifiedMs).toLocaleString()}`;
    this.iconPath = new vscode.ThemeIcon(current ? 'record' : 'history');
    this.contextValue = current ? 'crowd.recording.current' : 'crowd.recording';
    this.command = { command: 'crowd.recordings.replay', title: 'Replay', arguments: [this] };
  }
}

export class RecordingsView implements vscode.TreeDataProvider<Item>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChangeTreeData = this.changed.event;
  private readonly disposables: vscode.Disposable[];

  constructor(private readonly source: RecordingsSource) {
    this.disposables = [
      vscode.window.registerTreeDataProvider('crowd.recordings', this),
      vscode.commands.registerCommand('crowd.recordings.refresh', () => this.refresh()),
      vscode.commands.registerCommand('crowd.recordings.replay', (item?: Item) => item && this.replay(item.entry.path)),
      vscode.commands.registerCommand('crowd.recordings.reveal', (item?: Item) => item && this.reveal(item.entry.path)),
      vscode.commands.registerCommand('crowd.recordings.delete', (item?: Item) => item && this.delete(item.entry)),
    ];
  }

  refresh(): void {
    this.changed.fire();
  }

  getTreeItem(item: Item): vscode.TreeItem {
    return item;
  }

  getChildren(): Item[] {
    const current = this.source.current();
    return listRecordings(this.source.folder()).map((e) => new Item(e, current !== undefined && path.resolve(current) === path.resolve(e.path)));
  }

  /** `crowd replay --html` of the recording, shown in a webview panel. */
  async replay(dir: string): Promise<void> {
    const python = this.source.python();
    if (!python) {
      void vscode.window.showWarningMessage('crowd: replay needs the sidecar\'s Python interpreter, which is not running.');
      return;
    }
    if (dir === this.source.current()) {
      await this.source.flush().catch(() => undefined);
    }
    const out = `${dir}.html`; // next to the recording folder, not inside it (uploads take the folder)
    const result = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: `crowd: preparing the replay of ${path.basename(dir)}` },
      () => new Promise<{ code: number; stderr: string }>((resolve) => {
        cp.execFile(python, ['-m', 'crowd.cli', 'replay', '--html', '-o', out, dir], { timeout: 120_000, maxBuffer: 8 * 1024 * 1024 }, (err, _o, stderr) => {
          resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stderr: String(stderr) });
        });
      }));
    if (result.code !== 0 || !fs.existsSync(out)) {
      const why = /invalid choice|unrecognized/.test(result.stderr)
        ? 'this crowd installation has no `crowd replay --html` command'
        : result.stderr.trim().split('\n').pop() || `exit code ${result.code}`;
      log.error(`replay failed: ${result.stderr}`);
      void vscode.window.showErrorMessage(`crowd: replay failed: ${why}`);
      return;
    }
    log.info(`replay written to ${out}`);
    const panel = vscode.window.createWebviewPanel('crowd.replay', `Replay ${path.basename(dir)}`, vscode.ViewColumn.Active,
      { enableScripts: true, retainContextWhenHidden: true, localResourceRoots: [] });
    panel.webview.html = fs.readFileSync(out, 'utf8');
  }

  private async reveal(dir: string): Promise<void> {
    const local = vscode.env.remoteName === undefined && vscode.env.uiKind === vscode.UIKind.Desktop;
    if (local) {
      await vscode.commands.executeCommand('revealFileInOS', vscode.Uri.file(dir));
      return;
    }
    // never a window on the folder (it would record itself); in the browser there is no OS to reveal in
    const pick = await vscode.window.showInformationMessage(`crowd: the recording is in ${dir}`, 'Copy path');
    if (pick === 'Copy path') {
      await vscode.env.clipboard.writeText(dir);
    }
  }

  private async delete(entry: RecordingEntry): Promise<void> {
    if (entry.path === this.source.current()) {
      void vscode.window.showWarningMessage('crowd: this recording is being written; stop recording first, or use Panic.');
      return;
    }
    const ok = await vscode.window.showWarningMessage(`Delete the recording ${entry.name} (${formatBytes(entry.bytes)})?`,
      { modal: true, detail: 'Its folder and its replay page are deleted from this machine. This cannot be undone.' }, 'Delete');
    if (ok !== 'Delete') {
      return;
    }
    deleteRecording(this.source.folder(), entry.path);
    log.info(`deleted the recording ${entry.path}`);
    this.refresh();
  }

  dispose(): void {
    for (const d of this.disposables) {
      d.dispose();
    }
    this.changed.dispose();
  }
}
