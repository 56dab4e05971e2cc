/** The `crowd` Output channel: every lifecycle step and every problem lands here. */
import * as vscode from 'vscode';

let channel: vscode.LogOutputChannel | undefined;

export function createLog(): vscode.LogOutputChannel {
  channel = vscode.window.createOutputChannel('crowd', { log: true });
  return channel;
}

export const log = {
  info: (msg: string) => channel?.info(msg),
  warn: (msg: string) => channel?.warn(msg),
  error: (msg: string) => channel?.error(msg),
  show: () => channel?.show(true),
};
