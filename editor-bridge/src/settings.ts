/** The `crowd.*` settings, read in one place, and what of them the sidecar is told. */
import * as vscode from 'vscode';

export interface BridgeSettings {
  python: string;
  exportPath: string;
  excludes: string[];
  upload: boolean;
  uploadUrl: string;
  panicMinutes: number;
  batchMilliseconds: number;
  statsFile: string;
}

export function readSettings(): BridgeSettings {
  const c = vscode.workspace.getConfiguration('crowd');
  return {
    python: c.get<string>('python', ''),
    exportPath: c.get<string>('exportPath', ''),
    excludes: c.get<string[]>('excludes', []),
    upload: c.get<boolean>('upload', false),
    uploadUrl: c.get<string>('uploadUrl', ''),
    panicMinutes: c.get<number>('panicMinutes', 10),
    batchMilliseconds: c.get<number>('batchMilliseconds', 50),
    statsFile: c.get<string>('statsFile', ''),
  };
}

/** `initializationOptions.settings` of docs/protocol.md (empty values left to the sidecar). */
export function sidecarSettings(s: BridgeSettings, ownExcludes: readonly string[] = []): Record<string, unknown> {
  const out: Record<string, unknown> = {
    exclude: [...s.excludes, ...ownExcludes.filter((e) => !s.excludes.includes(e))],
    panicMinutes: s.panicMinutes,
    upload: s.upload,
  };
  if (s.exportPath.trim()) {
    out.recordingsDir = s.exportPath.trim();
  }
  if (s.uploadUrl.trim()) {
    out.uploadUrl = s.uploadUrl.trim();
  }
  return out;
}

/** Settings whose change needs a new sidecar process (they are fixed at initialize). */
export const RESTART_KEYS = ['crowd.python', 'crowd.exportPath', 'crowd.excludes', 'crowd.upload', 'crowd.uploadUrl', 'crowd.panicMinutes'];
