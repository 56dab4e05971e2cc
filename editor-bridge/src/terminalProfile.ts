/**
 * The `crowd term` terminal profile: a shell run under `crowd term`, which records the
 * terminal at keystroke level itself. Offered once as the default profile.
 */
import * as vscode from 'vscode';
import { CROWD_TERM_NAME } from './forward/terminals';

export const PROFILE_TITLE = 'crowd term (recorded terminal)'; // = package.json contributes.terminal.profiles title
const ASKED_KEY = 'crowd.defaultProfileAsked';

export function registerTerminalProfile(python: () => string | undefined): vscode.Disposable {
  return vscode.window.registerTerminalProfileProvider('crowd.term', {
    provideTerminalProfile(): vscode.TerminalProfile {
      const py = python();
      if (!py) {
        throw new Error('crowd: no Python interpreter with crowd was found (see the crowd log)');
      }
      return new vscode.TerminalProfile({ name: CROWD_TERM_NAME, shellPath: py, shellArgs: ['-m', 'crowd.cli', 'term'] });
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

/** Ask once (after consent was granted) whether crowd term should be the default terminal. */
export async function offerDefaultProfile(state: vscode.Memento): Promise<void> {
  if (state.get<boolean>(ASKED_KEY)) {
    return;
  }
  await state.update(ASKED_KEY, true);
  const pick = await vscode.window.showInformationMessage(
    'crowd: record terminals keystroke by keystroke by making "crowd term" your default terminal profile?',
    'Make default', 'Not now');
  if (pick === 'Make default') {
    await makeDefaultProfile();
  }
}
