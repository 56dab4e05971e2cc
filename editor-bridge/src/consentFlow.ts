/** Asking for consent: once at first run, and whenever the user wants to change it. */
import * as vscode from 'vscode';
import type { ConsentDecision, ConsentStore } from './core/consent';

export const CONSENT_TEXT =
  'crowd can record how you work in this editor (edits, cursor and scroll positions, files, ' +
  'terminal commands and their output) into a local recording, to make training data. ' +
  'Secrets are redacted; git-ignored and excluded files are skipped; nothing leaves this ' +
  'machine unless you turn on upload. Nothing is recorded until you agree.';

const RECORD = 'Record';
const DONT = "Don't record";

/** First run: a notification; its answer is remembered, dismissing it decides nothing. */
export async function askFirstRun(store: ConsentStore): Promise<ConsentDecision | undefined> {
  const pick = await vscode.window.showInformationMessage(`crowd: ${CONSENT_TEXT}`, RECORD, DONT);
  if (pick === RECORD || pick === DONT) {
    const decision: ConsentDecision = pick === RECORD ? 'granted' : 'declined';
    await store.set(decision);
    return decision;
  }
  return undefined;
}

/** The `crowd: Change recording consent` command. */
export async function askChange(store: ConsentStore): Promise<ConsentDecision | undefined> {
  const current = store.decision();
  const items: (vscode.QuickPickItem & { decision: ConsentDecision })[] = [
    { label: 'Record my activity', description: current === 'granted' ? '(current)' : '', detail: CONSENT_TEXT, decision: 'granted' },
    { label: "Don't record", description: current === 'declined' ? '(current)' : '', detail: 'Stops any recording; nothing is sent to the sidecar.', decision: 'declined' },
  ];
  const pick = await vscode.window.showQuickPick(items, { title: 'crowd: recording consent', placeHolder: 'Do you agree to be recorded?' });
  if (!pick) {
    return undefined;
  }
  await store.set(pick.decision);
  return pick.decision;
}
