/**
 * The `crowd term` terminal profile: a shell run under `crowd term`, which records the
 * terminal at keystroke level itself. Offered once as the default profile.
 */
import * as cp from 'child_process';
import * as vscode from 'vscode';
import { CROWD_TERM_NAME } from './forward/terminals';

export const PROFILE_TITLE = 'crowd term (recorded terminal)'; // = package.json contributes.terminal.profiles title
const ASKED_KEY = 'crowd.defaultProfileAsked';

/** Whether this interpreter's crowd has the `term` command (cached per interpreter). */
const hasTerm = new Map<string, Promise<boolean>>();
function checkTerm(python: string): Promise<boolean> {
  let p = hasTerm.get(python);
  if (!p) {
    p = new Promise((resolve) => {
      cp.execFile(python, ['-m', 'crowd.cli', 'term', '--help'], { timeout: 20_000 }, (err) => resolve(!err));
    });
    hasTerm.set(python, p);
  }
  return p;
}

export function registerTerminalProfile(python: () => string | undefined): vscode.Disposable {
  return vscode.window.registerTerminalProfileProvider('crowd.term', {
    async provideTerminalProfile(): Promise<vscode.TerminalProfile> {
      const py = python();
      if (!py) {
        throw new Error('crowd: no Python interpreter with crowd was found (see the crowd log)');
      }
      if (!(await checkTerm(py))) {
        hasTerm.delete(py); // may be installed later
        throw new Error(`crowd: ${py} has an older crowd without the \`crowd term\` command; pick the extension's own environment (or a newer crowd) with "crowd: Select the Python interpreter"`);
      }
      const args = ['-m', 'crowd.cli', 'term', '--name', CROWD_TERM_NAME];
      const folder = vscode.workspace.workspaceFolders?.[0]?.uri;
      if (folder?.scheme === 'file') {
        args.push('--workspace', folder.fsPath); // command cwds recorded relative to it
      }
      const exportPath = vscode.workspace.getConfiguration('crowd').get<string>('exportPath', '').trim();
      if (exportPath) {
        args.push('--recordings', exportPath); // next to the editor's recordings
      }
      return new vscode.TerminalProfile({ name: CROWD_TERM_NAME, shellPath: py, shellArgs: args, cwd: folder });
    },
  });
}

function platformKey(): string {
  return process.platform === 'darwin' ? 'osx' : process.platform === 'win32' ? 'windows' : 'linux';
}

export async function makeDefaultProfile(): Promise<void> {
  await vscode.workspace.getConfiguration('terminal.integrated').update(
    `defaultProfile.${platformKey()}`, PROFILE_TITLE, vscode.ConfigurationTarget.Global);
  void vscode.window.showInformationMessage('crowd: new terminals now open as "crowd term".');
}

/**
 * Offer once, and only later: the first time the user opens an ordinary terminal while
 * recording is allowed (not right after the consent question, where it read as jargon),
 * with what it changes.
 */
export function offerCrowdTermLater(state: vscode.Memento, granted: () => boolean, subscriptions: vscode.Disposable[]): void {
  if (state.get<boolean>(ASKED_KEY)) {
    return;
  }
  const listener = vscode.window.onDidOpenTerminal((terminal) => {
    if (!granted() || terminal.name === CROWD_TERM_NAME || state.get<boolean>(ASKED_KEY)) {
      return;
    }
    listener.dispose();
    void offerDefaultProfile(state);
  });
  subscriptions.push(listener);
}

async function offerDefaultProfile(state: vscode.Memento): Promise<void> {
  await state.update(ASKED_KEY, true);
  const pick = await vscode.window.showInformationMessage(
    'crowd: this terminal is recorded through the editor\'s shell integration: the commands you run and their output. '
    + 'A "crowd term" terminal records everything it shows instead, keystroke by keystroke, including full-screen '
    + 'programs (vim, less, top) and coding agents (claude, codex). Open new terminals as "crowd term"? '
    + 'You can change this later with "crowd: Use the crowd terminal as default profile" or in the terminal profile list.',
    'Make default', 'Not now');
  if (pick === 'Make default') {
    await makeDefaultProfile();
  }
}
