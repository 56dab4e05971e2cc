/**
 * `crowd: Select the Python interpreter`: a real picker. WHY: the old "Set interpreter"
 * button opened the Settings editor filtered on `crowd.python`, which showed "No Settings
 * Found" in remote windows and code-server (the setting is machine-overridable and only
 * shows on the Remote tab). The picker lists every interpreter the bridge would try, says
 * which can run crowd, offers a file dialog, and *Automatic* (clears the setting: the
 * extension's own environment when nothing else can run crowd); the choice is written to
 * `crowd.python` (which restarts the sidecar).
 */
import * as vscode from 'vscode';
import { checkedCandidates } from './python';

const BROWSE = '$(folder-opened) Browse…';
const AUTOMATIC = '$(sync) Automatic';

/** `python`: the interpreter to set; '' asks with a file dialog; undefined clears the setting. */
type Item = vscode.QuickPickItem & { python: string | undefined };

export async function pickInterpreter(): Promise<void> {
  const setting = vscode.workspace.getConfiguration('crowd').get<string>('python', '');
  const folders = vscode.workspace.isTrusted ? (vscode.workspace.workspaceFolders ?? []).map((f) => f.uri.fsPath) : [];
  const items = vscode.window.showQuickPick<Item>(
    checkedCandidates(setting, folders).then((found): Item[] => [
      ...found.map((c) => ({
        label: `${c.ok ? '$(check)' : '$(close)'} ${c.python}`,
        description: c.from,
        detail: c.ok ? 'can run crowd' : 'cannot import crowd',
        python: c.python,
      })),
      { label: AUTOMATIC, description: 'clears crowd.python: the first interpreter found that can run crowd, else the extension\'s own environment (set up from the crowd wheel it ships)', detail: undefined, python: undefined },
      { label: BROWSE, description: 'a python executable of a virtual environment with crowd', detail: undefined, python: '' },
    ]),
    { title: 'crowd: the Python interpreter that runs the sidecar', placeHolder: 'Interpreters crowd finds; ✓ = can run crowd', matchOnDescription: true },
  );
  const pick = await items;
  if (!pick) {
    return;
  }
  if (pick.python === undefined) {
    await vscode.workspace.getConfiguration('crowd').update('python', undefined, vscode.ConfigurationTarget.Global);
    void vscode.window.showInformationMessage('crowd: the interpreter is chosen automatically again.');
    return;
  }
  let python = pick.python;
  if (!python) {
    const chosen = await vscode.window.showOpenDialog({ canSelectFiles: true, canSelectFolders: false, canSelectMany: false, title: 'crowd: the Python interpreter' });
    if (!chosen?.length) {
      return;
    }
    python = chosen[0].fsPath;
  }
  await vscode.workspace.getConfiguration('crowd').update('python', python, vscode.ConfigurationTarget.Global);
  void vscode.window.showInformationMessage(`crowd: the sidecar now runs with ${python}.`);
}
