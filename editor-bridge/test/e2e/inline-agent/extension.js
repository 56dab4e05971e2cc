// A fake inline agent (test only, installed into code-server by tests/bridge): after a
// delay it inserts numbered lines at the top of the document in the active editor, every
// `intervalMs`, alternating workspace.applyEdit(WorkspaceEdit) and TextEditor.edit, i.e.
// edits through the editor API with no user input, while the user keeps typing elsewhere
// in the same visible editor. When done it says so in a notification the driver waits for.
const vscode = require('vscode');

function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function run() {
  const editor = vscode.window.activeTextEditor;
  if (!editor) {
    void vscode.window.showErrorMessage('inline agent: no active editor');
    return;
  }
  const cfg = vscode.workspace.getConfiguration('crowdTest.inlineAgent');
  const edits = cfg.get('edits', 12);
  await sleep(cfg.get('delayMs', 1500));
  let applied = 0;
  for (let i = 0; i < edits; i++) {
    const text = `# agent-${i} wrote this\n`;
    const at = new vscode.Position(0, 0);
    // an edit made against a document version the user's typing has since changed is
    // refused by the editor; real agents retry, so does this one, for up to 20 s (50 tries
    // in 1 s may not be enough on a loaded machine: CI once recorded fewer than the 12 asked)
    const giveUp = Date.now() + 20000;
    while (Date.now() < giveUp) {
      let ok;
      if (i % 2 === 0) {
        const edit = new vscode.WorkspaceEdit();
        edit.insert(editor.document.uri, at, text);
        ok = await vscode.workspace.applyEdit(edit);
      } else {
        ok = await editor.edit((b) => b.insert(at, text), { undoStopBefore: false, undoStopAfter: false });
      }
      if (ok) {
        applied += 1;
        break;
      }
      await sleep(20);
    }
    await sleep(cfg.get('intervalMs', 400));
  }
  void vscode.window.showInformationMessage(`inline agent done: ${applied} edits`);
}

exports.activate = (context) => {
  context.subscriptions.push(vscode.commands.registerCommand('crowdTest.inlineAgent.run', () => {
    void run();
  }));
};
exports.deactivate = () => undefined;
