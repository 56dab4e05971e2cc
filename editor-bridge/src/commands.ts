/** The `crowd.*` commands of the command palette and the status bar menu. */
import * as cp from 'child_process';
import * as fs from 'fs';
import * as vscode from 'vscode';
import type { Bridge } from './bridge';
import { askConsent } from './consentFlow';
import { pickInterpreter } from './interpreterPicker';
import { REQUESTS } from './core/protocol';
import { log } from './log';
import { makeDefaultProfile } from './terminalProfile';

function reportError(what: string) {
  return (err: unknown) => {
    const message = err instanceof Error ? err.message : String(err);
    log.error(`${what}: ${message}`);
    void vscode.window.showErrorMessage(`crowd: ${what} failed: ${message}`);
  };
}

export function registerCommands(bridge: Bridge): vscode.Disposable[] {
  const simple = (id: string, method: string) =>
    vscode.commands.registerCommand(id, () => bridge.request(method).catch(async (err: { code?: number }) => {
      if (err?.code === -32001) { // consent required
        const decision = await askConsent(bridge.consent);
        if (decision) {
          await bridge.applyConsent(decision);
          if (decision === 'granted') {
            await bridge.request(method);
          }
        }
        return;
      }
      reportError(id)(err);
    }));

  const menu: { label: string; command: string; when: (mode: string) => boolean }[] = [
    { label: '$(debug-pause) Pause', command: 'crowd.pause', when: (m) => m === 'recording' },
    { label: '$(play) Resume', command: 'crowd.resume', when: (m) => m === 'paused' },
    { label: '$(record) Start recording', command: 'crowd.start', when: (m) => m === 'stopped' },
    { label: '$(primitive-square) Stop recording', command: 'crowd.stop', when: (m) => m === 'recording' || m === 'paused' },
    { label: '$(flame) Panic: delete the last minutes', command: 'crowd.panic', when: (m) => m === 'recording' || m === 'paused' || m === 'stopped' },
    { label: '$(shield) Change consent', command: 'crowd.consent', when: () => true },
    { label: '$(folder-opened) Open recordings folder', command: 'crowd.openRecordings', when: () => true },
    { label: '$(play-circle) Replay this session', command: 'crowd.replay', when: (m) => m !== 'error' },
    { label: '$(refresh) Restart the sidecar', command: 'crowd.restartSidecar', when: () => true },
    { label: '$(output) Show log', command: 'crowd.showLog', when: () => true },
    { label: '$(settings-gear) Open settings', command: 'crowd.openSettings', when: () => true },
    { label: '$(symbol-misc) Select the Python interpreter', command: 'crowd.selectInterpreter', when: () => true },
  ];

  return [
    simple('crowd.start', REQUESTS.start),
    simple('crowd.stop', REQUESTS.stop),
    simple('crowd.pause', REQUESTS.pause),
    simple('crowd.resume', REQUESTS.resume),
    vscode.commands.registerCommand('crowd.panic', async () => {
      try {
        const r = await bridge.panic();
        void vscode.window.showInformationMessage(
          `crowd: deleted the last ${r.minutes} minutes of the recording (${r.removed} events). Press panic again within a minute to delete more.`);
      } catch (err) {
        reportError('panic')(err);
      }
    }),
    vscode.commands.registerCommand('crowd.consent', async () => {
      const decision = await askConsent(bridge.consent);
      if (decision) {
        await bridge.applyConsent(decision).catch(reportError('consent'));
      }
    }),
    vscode.commands.registerCommand('crowd.openRecordings', async () => {
      const folder = bridge.recordingsFolder();
      // never a window on the folder: it would record its own recordings (and in
      // code-server revealFileInOS has no OS to reveal in): the OS file manager where there
      // is one, else the path to copy
      const local = vscode.env.remoteName === undefined && vscode.env.uiKind === vscode.UIKind.Desktop;
      if (local) {
        await vscode.commands.executeCommand('revealFileInOS', vscode.Uri.file(folder));
        return;
      }
      const pick = await vscode.window.showInformationMessage(`crowd: recordings are in ${folder}`, 'Copy path');
      if (pick === 'Copy path') {
        await vscode.env.clipboard.writeText(folder);
      }
    }),
    vscode.commands.registerCommand('crowd.replay', () => {
      const session = bridge.currentRecording();
      if (!session) {
        void vscode.window.showWarningMessage('crowd: there is no recording in this session to replay yet; older ones are in the crowd Recordings view (Explorer).');
        return undefined;
      }
      return vscode.commands.executeCommand('crowd.recordings.replay', { entry: { path: session } });
    }),
    vscode.commands.registerCommand('crowd.restartSidecar', () => bridge.sidecar.restart().catch(reportError('restart'))),
    vscode.commands.registerCommand('crowd.showLog', () => log.show()),
    vscode.commands.registerCommand('crowd.selectInterpreter', () => pickInterpreter().catch(reportError('select interpreter'))),
    vscode.commands.registerCommand('crowd.openSettings', () => vscode.commands.executeCommand('workbench.action.openSettings', '@ext:crowd.crowd-bridge')),
    vscode.commands.registerCommand('crowd.showUserId', async () => {
      // the random id that identifies this machine's uploads (crowd upload status), not a name
      const python = bridge.sidecar.python;
      if (!python) {
        void vscode.window.showWarningMessage('crowd: the sidecar has no Python interpreter yet (see crowd: Select the Python interpreter).');
        return;
      }
      const out = await new Promise<string>((resolve, reject) => cp.execFile(python, ['-m', 'crowd.cli', 'upload', 'status'],
        { timeout: 30_000 }, (err, stdout, stderr) => (err ? reject(new Error(String(stderr).trim() || err.message)) : resolve(String(stdout)))));
      const id = String((JSON.parse(out) as { userId?: unknown }).userId ?? '');
      const pick = await vscode.window.showInformationMessage(`crowd: your user ID is ${id} (random, made once on this machine; it marks your uploads without naming you).`, 'Copy');
      if (pick === 'Copy') {
        await vscode.env.clipboard.writeText(id);
      }
    }),
    vscode.commands.registerCommand('crowd.showStats', () => {
      const report = bridge.statsReport();
      log.info(`bridge overhead: ${JSON.stringify(report)}`);
      const file = vscode.workspace.getConfiguration('crowd').get<string>('statsFile', '');
      if (file) {
        fs.writeFileSync(file, JSON.stringify(report, null, 2));
      }
      return report;
    }),
    vscode.commands.registerCommand('crowd.useCrowdTerminalByDefault', () => makeDefaultProfile().catch(reportError('default profile'))),
    vscode.commands.registerCommand('crowd.statusMenu', async () => {
      const mode = bridge.model.view(Date.now()).mode;
      const items = menu.filter((i) => i.when(mode)).map((i) => ({ label: i.label, command: i.command }));
      const pick = await vscode.window.showQuickPick(items, { title: 'crowd' });
      if (pick) {
        await vscode.commands.executeCommand(pick.command);
      }
    }),
  ];
}
