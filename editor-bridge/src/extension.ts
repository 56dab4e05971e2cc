/**
 * Activation: wire the forwarders to the hub, start the sidecar, ask for consent once.
 * Everything else lives in small modules (see docs/editor-bridge.md for the map).
 */
import * as vscode from 'vscode';
import { Bridge } from './bridge';
import { registerCommands } from './commands';
import { askFirstRun } from './consentFlow';
import { registerDocuments } from './forward/documents';
import { registerEditors } from './forward/editors';
import { registerFiles } from './forward/files';
import { registerInterceptors } from './forward/interceptors';
import { registerTerminals } from './forward/terminals';
import { TypingSignals } from './forward/typing';
import { registerWindow } from './forward/window';
import { createLog, log } from './log';
import { RESTART_KEYS } from './settings';
import { StatusBar } from './statusBar';
import { offerDefaultProfile, registerTerminalProfile } from './terminalProfile';

let bridge: Bridge | undefined;

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  const channel = createLog();
  context.subscriptions.push(channel);
  log.info(`crowd bridge ${context.extension.packageJSON.version} in ${vscode.env.appName} ${vscode.version}`);

  const b = new Bridge(context, channel);
  bridge = b;
  const typing = new TypingSignals(b.hub);
  b.typing = typing;
  const bar = new StatusBar(b.model, () => typing.tooltip());
  context.subscriptions.push(
    b, bar, typing,
    b.onDidChange(() => bar.render()),
    typing.onDidChange(() => bar.render()),
    ...registerCommands(b),
    ...registerDocuments(b.hub),
    ...registerEditors(b.hub),
    ...registerFiles(b.hub),
    ...registerWindow(b.hub),
    ...registerTerminals(b.hub, b.terminalIds),
    ...registerInterceptors(b.hub),
    registerTerminalProfile(() => b.sidecar.python),
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (RESTART_KEYS.some((k) => e.affectsConfiguration(k))) {
        log.info('crowd settings changed: restarting the sidecar');
        void b.sidecar.restart();
      }
      if (e.affectsConfiguration('crowd.batchMilliseconds')) {
        b.hub.batcher.setDelay(vscode.workspace.getConfiguration('crowd').get<number>('batchMilliseconds', 50));
      }
    }),
  );

  await b.sidecar.start();

  if (b.consent.needsPrompt()) {
    void askFirstRun(b.consent).then(async (decision) => {
      if (decision) {
        await b.applyConsent(decision).catch((err) => log.error(`consent: ${String(err)}`));
        if (decision === 'granted') {
          await offerDefaultProfile(context.globalState);
        }
      }
    });
  }
}

export function deactivate(): Promise<void> | undefined {
  const b = bridge;
  bridge = undefined;
  if (!b) {
    return undefined;
  }
  b.hub.flush();
  return b.sidecar.dispose();
}
