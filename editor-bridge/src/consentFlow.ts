/**
 * Asking for consent: a modal dialog with the full text, at first run and whenever the
 * user wants to change it (the status bar's `consent?` opens the same dialog).
 *
 * WHY modal: the first-run question used to be a notification toast, which vanishes into
 * the notification centre after a few seconds and cut the text ("crowd: crowd can
 * record..."); a quick pick cut it as well. A modal dialog cannot be missed and shows all
 * of it. Dismissing it decides nothing: nothing is recorded and the status bar keeps
 * asking.
 */
import * as vscode from 'vscode';
import type { ConsentDecision, ConsentStore } from './core/consent';

export const CONSENT_TITLE = 'crowd: record how you work in this editor?';

export const CONSENT_TEXT =
  'crowd records your work in this editor into a local recording that can be used as training data for AI models: ' +
  'your edits, cursor and scroll positions, the files you open, and the commands you run in terminals with their output.\n\n' +
  'Secrets (keys, tokens, passwords) are redacted before anything is written; git-ignored files and files matching ' +
  'crowd.excludes are never recorded. Recordings stay on this machine unless you turn on upload (crowd.upload).\n\n' +
  'The Panic button in the status bar deletes the last minutes of the recording, everywhere. You can pause, stop or ' +
  'change this answer at any time from the crowd item in the status bar. Your answer applies to this machine ' +
  '(every editor window and `crowd term`). Nothing is recorded until you agree.';

export const RECORD = 'Record';
export const DONT = "Don't record";

/** The modal dialog; its answer is stored, dismissing it decides nothing. */
export async function askConsent(store: ConsentStore): Promise<ConsentDecision | undefined> {
  const current = store.decision();
  const now = current === 'granted' ? '\n\nNow: recording is allowed.' : current === 'declined' ? '\n\nNow: nothing is recorded.' : '';
  const pick = await vscode.window.showInformationMessage(CONSENT_TITLE, { modal: true, detail: CONSENT_TEXT + now }, RECORD, DONT);
  if (pick !== RECORD && pick !== DONT) {
    return undefined;
  }
  const decision: ConsentDecision = pick === RECORD ? 'granted' : 'declined';
  await store.set(decision);
  return decision;
}
