/**
 * Finding a Python interpreter that has the `crowd` package.
 *
 * Order: the `crowd.python` setting; `$CROWD_PYTHON`; the interpreter that
 * `crowd install-extension` remembered (<crowd home>/interpreter); each workspace folder's
 * `.venv` / `venv` (`Scripts\python.exe` on Windows); the interpreter named in the shebang of
 * `crowd` on PATH; `python3`, `python` (Windows: `python`, `py`, each resolved with PATHEXT:
 * the old lookup looked for `python3` without `.exe` and found nothing); on macOS also
 * Homebrew's and python.org's `python3` (an editor started from the Dock gets a PATH without
 * them). Each candidate is asked to `import crowd.server`; the first that can is used.
 * Pure apart from the injected file/exec functions, so the order is unit tested.
 */
import * as path from 'path';

export interface ProbeDeps {
  exists(file: string): boolean;
  readFile(file: string): string | undefined;
  /** Resolve an executable name on PATH (undefined when absent). */
  which(name: string): string | undefined;
  /** Run `python -c code`; resolve true when it exits 0 within the timeout. */
  runs(python: string, code: string): Promise<boolean>;
  env: Record<string, string | undefined>;
  home: string;
  /** process.platform (defaults to 'linux' where left out). */
  platform?: string;
}

export const MAC_PYTHONS = ['/opt/homebrew/bin/python3', '/usr/local/bin/python3', '/Library/Frameworks/Python.framework/Versions/Current/bin/python3'];

/**
 * `name` resolved on `env.PATH` as the platform's shell would: on Windows with each of
 * PATHEXT's extensions (`python` is `python.exe`; the old lookup tried the bare name and found
 * nothing) and `;` between folders. `isFile` says whether a path is an existing file.
 */
export function resolveOnPath(name: string, env: Record<string, string | undefined>, platform: string,
  isFile: (file: string) => boolean): string | undefined {
  const windows = platform === 'win32';
  const p = windows ? path.win32 : path.posix;
  const dirs = (env.PATH ?? env.Path ?? '').split(windows ? ';' : ':').filter(Boolean);
  let exts = [''];
  if (windows) {
    const pathext = (env.PATHEXT || '.COM;.EXE;.BAT;.CMD').split(';').filter(Boolean);
    const given = pathext.some((e) => name.toLowerCase().endsWith(e.toLowerCase()));
    // a name without one of PATHEXT's extensions is not run by Windows as it is
    exts = [...(given ? [''] : []), ...pathext.flatMap((e) => [e, e.toLowerCase()])];
  }
  for (const dir of dirs) {
    for (const ext of exts) {
      const file = p.join(dir, name + ext);
      if (isFile(file)) {
        return file;
      }
    }
  }
  return undefined;
}

export interface Candidate {
  python: string;
  from: string;
}

export function crowdHome(env: Record<string, string | undefined>, home: string): string {
  if (env.CROWD_HOME) {
    return env.CROWD_HOME;
  }
  const data = env.XDG_DATA_HOME || path.join(home, '.local', 'share');
  return path.join(data, 'crowd');
}

/** The interpreter named by a script's `#!` line (`#!/usr/bin/env python3` -> python3). */
export function shebangInterpreter(script: string | undefined): string | undefined {
  if (!script || !script.startsWith('#!')) {
    return undefined;
  }
  const line = script.slice(2).split('\n', 1)[0].trim();
  const parts = line.split(/\s+/);
  if (parts.length === 0 || parts[0] === '') {
    return undefined;
  }
  if (path.basename(parts[0]) === 'env') {
    return parts.slice(1).find((p) => !p.startsWith('-'));
  }
  return parts[0];
}

export function candidates(setting: string, folders: string[], deps: ProbeDeps, extra: readonly Candidate[] = []): Candidate[] {
  const out: Candidate[] = [];
  const add = (python: string | undefined, from: string) => {
    if (python && !out.some((c) => c.python === python)) {
      out.push({ python, from });
    }
  };
  add(setting.trim() || undefined, 'the crowd.python setting');
  add(deps.env.CROWD_PYTHON, '$CROWD_PYTHON');
  const remembered = deps.readFile(path.join(crowdHome(deps.env, deps.home), 'interpreter'))?.trim();
  add(remembered, 'crowd install-extension');
  const windows = deps.platform === 'win32';
  const p = windows ? path.win32 : path.posix;
  for (const folder of folders) {
    for (const venv of ['.venv', 'venv']) {
      const py = windows ? p.join(folder, venv, 'Scripts', 'python.exe') : p.join(folder, venv, 'bin', 'python');
      if (deps.exists(py)) {
        add(py, `the ${venv} of ${p.basename(folder)}`);
      }
    }
  }
  for (const c of extra) { // the extension's own provisioned sidecar (provision.ts)
    add(c.python, c.from);
  }
  const crowdExe = deps.which('crowd');
  if (crowdExe && !windows) { // on Windows `crowd.exe` is a launcher without a shebang
    const interp = shebangInterpreter(deps.readFile(crowdExe));
    add(interp, `the crowd command on PATH (${crowdExe})`);
  }
  for (const name of windows ? ['python', 'py'] : ['python3', 'python']) {
    add(deps.which(name), `${name} on PATH`);
  }
  if (deps.platform === 'darwin') {
    for (const py of MAC_PYTHONS) {
      if (deps.exists(py)) {
        add(py, 'a macOS Python installation');
      }
    }
  }
  return out;
}

export const PROBE_CODE = 'import crowd.server, crowd.cli';

export interface ProbeResult {
  found?: Candidate;
  tried: Candidate[];
}

/** The first candidate that can import crowd; the setting is authoritative when it works. */
export async function findPython(setting: string, folders: string[], deps: ProbeDeps, extra: readonly Candidate[] = []): Promise<ProbeResult> {
  const tried: Candidate[] = [];
  for (const c of candidates(setting, folders, deps, extra)) {
    tried.push(c);
    if (await deps.runs(c.python, PROBE_CODE)) {
      return { found: c, tried };
    }
  }
  return { tried };
}

export interface FixContext {
  platform: string;
  /** The `crowd.python` setting (set: the extension does not make its own environment). */
  setting: string;
  /** The crowd wheel this extension ships (absent in a build without one). */
  wheel?: string;
}

/**
 * What went wrong and the fix that works. The package is not on PyPI (`crowd` there is an
 * unrelated project, and so would be any other name a hint guessed): the fixes use the
 * extension's own environment, or the wheel the extension ships.
 */
export function noPythonMessage(tried: Candidate[], fix: FixContext): string {
  const list = tried.length ? tried.map((c) => `${c.python} (${c.from})`).join(', ') : 'no interpreter at all';
  const head = `No Python interpreter that can run crowd was found; tried ${list}. `;
  if (fix.setting.trim()) {
    return head + `The crowd.python setting names ${fix.setting.trim()}, which cannot import crowd: clear it (the extension then ` +
      'sets up its own environment) or pick another interpreter with "crowd: Select the Python interpreter".';
  }
  const windows = fix.platform === 'win32';
  const python = windows ? 'Python 3.11 or newer from python.org (or `winget install Python.Python.3.12`)'
    : fix.platform === 'darwin' ? 'Python 3.11 or newer from python.org or Homebrew (`brew install python`)'
      : 'Python 3.11 or newer (Debian/Ubuntu: `sudo apt install python3 python3-venv`)';
  let manual = '';
  if (fix.wheel) {
    manual = windows
      ? ` Or by hand: \`py -m venv %USERPROFILE%\\.crowd-venv\` then \`%USERPROFILE%\\.crowd-venv\\Scripts\\pip install "${fix.wheel}"\``
      : ` Or by hand: \`python3 -m venv ~/.crowd-venv && ~/.crowd-venv/bin/pip install '${fix.wheel}'\``;
    manual += ' (a virtual environment: Debian and Ubuntu refuse pip outside one), then pick that interpreter with ' +
      '"crowd: Select the Python interpreter".';
  }
  return head + `The extension sets up its own environment when a Python is there: install ${python}, ` +
    'then run "crowd: Restart the sidecar".' + manual;
}
