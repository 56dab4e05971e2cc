/**
 * Activation: wire the forwarders to the hub, start the sidecar, ask for consent once.
 * Everything else lives in small modules (see docs/editor-bridge.md for the map).
 */
import * as vscode from 'vscode';
import { Bridge } from './bridge';
import { registerCommands } from './commands';
import { askConsent } from './consentFlow';
import { adoptMachineFact } from './core/consent';
import { REQUESTS } from './core/protocol';
import { WindowWatch } from './core/windowWatch';
import { registerDocuments } from './forward/documents';
import { registerEditors } from './forward/editors';
import { registerFiles } from './forward/files';
import { registerTerminals } from './forward/terminals';
import { TypingSignals } from './forward/typing';
import { registerWindow } from './forward/window';
import { createLog, log } from './log';
import { RESTART_KEYS } from './settings';
import { RecordingsView } from './recordingsView';
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
  const recordings = new RecordingsView({
    folder: () => b.recordingsFolder(),
    current: () => b.currentRecording(),
    python: () => b.sidecar.python,
    flush: () => b.request(REQUESTS.flush),
  });
  let shownSession: string | undefined;
  context.subscriptions.push(
    recordings,
    b.onDidChange(() => { // a new recording appears in the view when it starts
      const now = b.currentRecording();
      if (now !== shownSession) {
        shownSession = now;
        recordings.refresh();
      }
    }),
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
        // restarted once the change held (Bridge.reconcile: the status poll checks again)
        log.info('crowd settings changed: the sidecar restarts with them if they hold for 3 s');
        void b.reconcile();
      }
      if (e.affectsConfiguration('crowd.statsFile')) {
        developer();
      }
      if (e.affectsConfiguration('crowd.batchMilliseconds')) {
        b.hub.batcher.setDelay(vscode.workspace.getConfiguration('crowd').get<number>('batchMilliseconds', 50));
      }
    }),
  );

  // a window whose browser died leaves this extension host (and its sidecar) running in
  // code-server: stop recording while the window does not answer, start again if it returns
  let stoppedForGone = false;
  let beat = 0;
  const watch = new WindowWatch(
    () => vscode.commands.executeCommand('setContext', 'crowd.alive', ++beat),
    () => {
      const mode = b.model.view(Date.now()).mode;
      if (mode === 'recording' || mode === 'paused') {
        log.warn('the editor window has not answered for 30 s (its browser is gone?): stopping the recording');
        stoppedForGone = true;
        void b.request(REQUESTS.stop).catch((err) => log.error(`stop: ${String(err)}`));
      }
    },
    () => {
      if (stoppedForGone) {
        stoppedForGone = false;
        log.info('the editor window answers again: recording again');
        void b.request(REQUESTS.start).catch((err) => log.error(`start: ${String(err)}`));
      }
    },
    () => Date.now(),
  );
  const watchTimer = setInterval(() => watch.tick(), 5_000);
  context.subscriptions.push({ dispose: () => clearInterval(watchTimer) });

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
