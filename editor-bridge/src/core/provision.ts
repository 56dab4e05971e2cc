/**
 * The plan for provisioning the extension's own sidecar: a virtual environment in the
 * extension's global storage, with crowd-rollouts installed from the wheel the .vsix ships
 * (editor-bridge/python/, filled by scripts/bundle-python.sh).
 *
 * WHY: getting the bridge to record took 8-9 steps, 4 of them in a terminal (Python, a
 * virtualenv because PEP 668 blocks pip on Debian's python3, the package, the `code` command,
 * `crowd install-extension`), and the hint `pip install crowd` installed an unrelated package.
 * Now: install the extension, consent. Debian: `python3 -m venv` needs the python3-venv
 * package (ensurepip); without it the venv is made `--without-pip` and pip runs from its
 * bundled wheel, which installs into the venv (PEP 668 does not apply inside one). Offline
 * when the dependency wheels bundled match this machine (they are the build machine's);
 * otherwise the dependencies come from the package index pip is configured with.
 * No `vscode` import: unit tested.
 */
import * as path from 'path';
import { MAC_PYTHONS } from './pythonProbe';

export interface Manifest {
  wheel: string;
  version: string;
  pip: string | null;
  deps: string[];
  depsPlatform: string;
  depsPython: string;
}

export interface Step {
  /** Shown in the progress notification. */
  title: string;
  command: string;
  args: string[];
  /** Tried when `args` fails (a fallback of the same step). */
  fallback?: string[];
}

/** Lowest Python crowd-rollouts supports (pyproject.toml requires-python). */
export const MIN_PYTHON: [number, number] = [3, 11];

export const MARKER = '.crowd-provisioned';

export function pathsFor(platform: string): typeof path.posix {
  return platform === 'win32' ? path.win32 : path.posix;
}

/** One venv per crowd version, so an update of the extension provisions afresh. */
export function venvDir(storage: string, manifest: Manifest, platform: string): string {
  return pathsFor(platform).join(storage, `sidecar-${manifest.version}`);
}

export function venvPython(dir: string, platform: string): string {
  const p = pathsFor(platform);
  return platform === 'win32' ? p.join(dir, 'Scripts', 'python.exe') : p.join(dir, 'bin', 'python');
}

/** Interpreter names to make the venv with, in order. */
export function baseNames(platform: string): string[] {
  return platform === 'win32' ? ['python', 'py'] : ['python3', 'python'];
}

/**
 * The interpreters to make the venv with, in order: the names on PATH, then on macOS
 * Homebrew's and python.org's (an editor started from the Dock has a PATH without them, and
 * the `/usr/bin/python3` it has is Apple's 3.9, too old).
 */
export function baseInterpreters(platform: string, which: (name: string) => string | undefined,
  exists: (file: string) => boolean): string[] {
  const out: string[] = [];
  for (const found of [...baseNames(platform).map(which), ...(platform === 'darwin' ? MAC_PYTHONS.filter(exists) : [])]) {
    if (found && !out.includes(found)) {
      out.push(found);
    }
  }
  return out;
}

/** `3.11` -> whether it is new enough. */
export function newEnough(version: string): boolean {
  const [major, minor] = version.trim().split('.').map((n) => Number.parseInt(n, 10));
  return major > MIN_PYTHON[0] || (major === MIN_PYTHON[0] && minor >= MIN_PYTHON[1]);
}

export function steps(base: string, dir: string, bundle: string, manifest: Manifest, platform: string): Step[] {
  const p = pathsFor(platform);
  const py = venvPython(dir, platform);
  const wheel = p.join(bundle, manifest.wheel);
  const deps = p.join(bundle, 'deps');
  // pip from its wheel: works in a venv made without pip, and is the same pip everywhere
  const pip = manifest.pip ? [p.join(bundle, manifest.pip, 'pip')] : ['-m', 'pip'];
  const install = [...pip, 'install', '--disable-pip-version-check', '--no-input', '--find-links', deps];
  return [
    { title: 'creating a Python environment', command: base, args: ['-m', 'venv', dir], fallback: ['-m', 'venv', '--without-pip', dir] },
    { title: `installing crowd ${manifest.version}`, command: py, args: [...install, '--no-index', wheel], fallback: [...install, wheel] },
    { title: 'checking the installation', command: py, args: ['-c', 'import crowd.server, crowd.cli'] },
  ];
}
