/**
 * crowd never records its own recordings.
 *
 * WHY: "Open recordings folder" opened a window on that folder in code-server, whose sidecar
 * then recorded its own segment files (346 external changes in 69 s); a `crowd.exportPath`
 * inside the workspace did the same and showed up untracked in git. The sidecar watches
 * whole workspace folders, so the bridge (1) excludes a recordings folder that lies inside
 * a workspace folder (an `exclude` pattern, like the user's own, and a `.gitignore` of `*`
 * in it so git does not list it as untracked) and (2) records nothing in
 * a window whose workspace folder is inside the recordings folder. The default folder is
 * crowd.home's: `$CROWD_HOME/recordings`, else `$XDG_DATA_HOME/crowd/recordings`, else
 * `~/.local/share/crowd/recordings`. No `vscode` import: unit tested.
 */
import * as path from 'path';

export function defaultRecordingsDir(env: Record<string, string | undefined>, home: string, p: typeof path = path): string {
  if (env.CROWD_HOME) {
    return p.join(env.CROWD_HOME, 'recordings');
  }
  return p.join(env.XDG_DATA_HOME || p.join(home, '.local', 'share'), 'crowd', 'recordings');
}

/** `child` equal to or below `parent`: the relative path ('' when equal), else undefined. */
function within(parent: string, child: string, p: typeof path): string | undefined {
  const rel = p.relative(p.resolve(parent), p.resolve(child));
  if (rel === '' || (!rel.startsWith('..') && !p.isAbsolute(rel))) {
    return rel;
  }
  return undefined;
}

/** Written into a recordings folder inside a workspace so git does not list it as untracked. */
export const RECORDINGS_GITIGNORE = '# crowd\'s recordings (crowd.exportPath): never recorded, never committed\n*\n';

export interface SelfRecording {
  /** gitignore-style patterns (workspace-relative) that keep the recordings out. */
  excludes: string[];
  /** A workspace folder inside the recordings folder: record nothing in this window. */
  insideRecordings?: string;
}

export function selfRecording(recordings: string, folders: readonly string[], p: typeof path = path): SelfRecording {
  const excludes: string[] = [];
  for (const folder of folders) {
    if (within(recordings, folder, p) !== undefined) {
      return { excludes: [], insideRecordings: folder };
    }
    const rel = within(folder, recordings, p);
    if (rel) {
      const pattern = `/${rel.split(p.sep).join('/')}/`;
      if (!excludes.includes(pattern)) {
        excludes.push(pattern);
      }
    }
  }
  return { excludes };
}
