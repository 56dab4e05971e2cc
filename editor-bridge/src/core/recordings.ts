/**
 * The recordings folder as the Recordings view lists it: one entry per recording folder
 * (a folder holding `seg-*.crowd` segments), newest first, with its size. Uses node's fs
 * only (no `vscode`): unit tested on real temporary folders.
 */
import * as fs from 'fs';
import * as path from 'path';

export interface RecordingEntry {
  name: string;
  path: string;
  bytes: number;
  segments: number;
  modifiedMs: number;
}

function folderBytes(dir: string): number {
  let total = 0;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) {
      total += folderBytes(full);
    } else if (entry.isFile()) {
      total += fs.statSync(full).size;
    }
  }
  return total;
}

export function listRecordings(root: string): RecordingEntry[] {
  let entries: fs.Dirent[];
  try {
    entries = fs.readdirSync(root, { withFileTypes: true });
  } catch {
    return []; // no recording yet: the folder is made with the first one
  }
  const out: RecordingEntry[] = [];
  for (const e of entries) {
    if (!e.isDirectory()) {
      continue;
    }
    const dir = path.join(root, e.name);
    try {
      const segments = fs.readdirSync(dir).filter((f) => /^seg-.*\.crowd$/.test(f));
      if (!segments.length) {
        continue;
      }
      out.push({ name: e.name, path: dir, bytes: folderBytes(dir), segments: segments.length, modifiedMs: fs.statSync(dir).mtimeMs });
    } catch {
      continue; // removed meanwhile
    }
  }
  return out.sort((a, b) => b.modifiedMs - a.modifiedMs || b.name.localeCompare(a.name));
}

export function formatBytes(n: number): string {
  return n < 1024 ? `${n} B` : n < 1024 ** 2 ? `${(n / 1024).toFixed(1)} KB` : `${(n / 1024 ** 2).toFixed(1)} MB`;
}

/** Delete a recording and its replay page; refuses anything that is not a recording folder in `root`. */
export function deleteRecording(root: string, dir: string): void {
  const rel = path.relative(path.resolve(root), path.resolve(dir));
  if (!rel || rel.startsWith('..') || path.isAbsolute(rel) || rel.includes(path.sep)) {
    throw new Error(`${dir} is not a recording in ${root}`);
  }
  if (!fs.readdirSync(dir).some((f) => /^seg-.*\.crowd$/.test(f))) {
    throw new Error(`${dir} holds no recording segments`);
  }
  fs.rmSync(dir, { recursive: true, force: true });
  fs.rmSync(`${dir}.html`, { force: true });
}
