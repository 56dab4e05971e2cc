/**
 * Activation: wire the forwarders to the hub, start the sidecar, ask for consent once.
 * Everything else lives in small modules (see docs/editor-bridge.md for the map).
 */
import * as vscode from 'vscode';
import { Bridge } from './bridge';
import { registerCommands } from './commands';
import { askConsent } from './consentFlow';
import { adoptMachineFact } from './core/consent';
import { registerDocuments } from './forward/documents';
import { registerEditors } from './forward/editors';
import { registerFiles } from './forward/files';
import { registerTerminals } from './forward/terminals';
import { TypingSignals } from './forward/typing';
import { registerWindow } from './forward/window';
import { createLog, log } from './log';
import { RESTART_KEYS } from './settings';
import { StatusBar } from './statusBar';
import { offerCrowdTermLater, registerTerminalProfile } from './terminalProfile';
import { readConsentFact } from './python';

let bridge: Bridge | undefined;

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  const channel = createLog();
  context.subscriptions.push(channel);
  log.info(`crowd bridge ${context.extension.packageJSON.version} in ${vscode.env.appName} ${vscode.version}`);

  // developer-only commands (statistics) show in the palette only for tests and development
  const developer = () => void vscode.commands.executeCommand('setContext', 'crowd.developer',
    context.extensionMode !== vscode.ExtensionMode.Production || vscode.workspace.getConfiguration('crowd').get<string>('statsFile', '') !== '');
  developer();

  const b = new Bridge(context, channel);
  bridge = b;
  const typing = new TypingSignals(b.hub);
  b.typing = typing;
  const bar = new StatusBar(b.model, () => typing.tooltip(), () => b.nextPanicMinutes());
  context.subscriptions.push(
    b, bar, typing,
    b.onDidChange(() => bar.render()),
    typing.onDidChange(() => bar.render()),
    ...registerCommands(b),
    ...registerDocuments(b.hub, (e, reason) => typing.beforeChange(e, reason)),
    ...registerEditors(b.hub),
    ...registerFiles(b.hub),
    ...registerWindow(b.hub),
    ...registerTerminals(b.hub, b.terminalIds),
    registerTerminalProfile(() => b.sidecar.python),
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (RESTART_KEYS.some((k) => e.affectsConfiguration(k))) {
        log.info('crowd settings changed: restarting the sidecar');
        void b.sidecar.restart();
      }
      if (e.affectsConfiguration('crowd.statsFile')) {
        developer();
      }
      if (e.affectsConfiguration('crowd.batchMilliseconds')) {
        b.hub.batcher.setDelay(vscode.workspace.getConfiguration('crowd').get<number>('batchMilliseconds', 50));
      }
    }),
  );

  await b.sidecar.start();

  // consent is the machine's fact: an answer given in another editor or browser counts here
  const python = b.sidecar.python;
  const adopted = python ? adoptMachineFact(b.consent.decision(), await readConsentFact(python)) : undefined;
  if (adopted) {
    log.info(`consent ${adopted}: the machine's answer, given in another editor or browser`);
    await b.consent.set(adopted);
    await b.applyConsent(adopted).catch((err) => log.error(`consent: ${String(err)}`));
  }
  offerCrowdTermLater(context.globalState, () => b.consent.decision() === 'granted', context.subscriptions);

  if (b.consent.needsPrompt()) {
    void askConsent(b.consent).then(async (decision) => {
      if (decision) {
        await b.applyConsent(decision).catch((err) => log.error(`consent: ${String(err)}`));
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
