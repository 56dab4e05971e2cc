/**
 * Provisioning the extension's own sidecar (the plan and why: core/provision.ts): when no
 * interpreter with crowd is found and `crowd.python` is not set, a venv is made in the
 * extension's global storage from the wheel the .vsix ships, with a progress notification.
 * Two windows starting at once share one venv: the first takes a lock folder, the other
 * waits for its marker.
 */
import * as cp from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import * as vscode from 'vscode';
import { MARKER, Manifest, baseInterpreters, newEnough, steps, venvDir, venvPython } from './core/provision';
import { log } from './log';

const STEP_TIMEOUT_MS = 10 * 60_000;
const LOCK_STALE_MS = 15 * 60_000;

function run(command: string, args: string[]): Promise<{ ok: boolean; output: string }> {
  return new Promise((resolve) => {
    cp.execFile(command, args, { timeout: STEP_TIMEOUT_MS, maxBuffer: 16 * 1024 * 1024, env: { ...process.env, PIP_DISABLE_PIP_VERSION_CHECK: '1' } },
      (err, stdout, stderr) => resolve({ ok: !err, output: `${stdout}${stderr}`.trim() }));
  });
}

export function readManifest(bundle: string): Manifest | undefined {
  try {
    return JSON.parse(fs.readFileSync(path.join(bundle, 'manifest.json'), 'utf8')) as Manifest;
  } catch {
    return undefined;
  }
}

/** The provisioned interpreter if a complete one exists (no work done). */
export function provisioned(storage: string, bundle: string): string | undefined {
  const manifest = readManifest(bundle);
  if (!manifest) {
    return undefined;
  }
  const dir = venvDir(storage, manifest, process.platform);
  return fs.existsSync(path.join(dir, MARKER)) ? venvPython(dir, process.platform) : undefined;
}

async function baseInterpreter(which: (name: string) => string | undefined): Promise<string | undefined> {
  for (const exe of baseInterpreters(process.platform, which, (f) => fs.existsSync(f))) {
    const r = await run(exe, ['-c', 'import sys; print("%d.%d" % sys.version_info[:2])']);
    if (r.ok && newEnough(r.output)) {
      log.info(`provision: making the environment with ${exe} (Python ${r.output})`);
      return exe;
    }
    log.info(`provision: ${exe} is Python ${r.output || '?'}; crowd needs 3.11 or newer`);
  }
  return undefined;
}

async function waitForMarker(dir: string, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (fs.existsSync(path.join(dir, MARKER))) {
      return true;
    }
    await new Promise((r) => setTimeout(r, 1_000)); // another window's pip run: no event to await
  }
  return false;
}

/** Make the venv; the interpreter, or undefined with the reason logged and shown. */
export async function provisionSidecar(storage: string, bundle: string, which: (name: string) => string | undefined): Promise<string | undefined> {
  const manifest = readManifest(bundle);
  if (!manifest) {
    log.warn(`provision: this extension ships no crowd wheel (${bundle}/manifest.json missing)`);
    return undefined;
  }
  const dir = venvDir(storage, manifest, process.platform);
  const python = venvPython(dir, process.platform);
  if (fs.existsSync(path.join(dir, MARKER))) {
    return python;
  }
  fs.mkdirSync(storage, { recursive: true });
  const lock = `${dir}.lock`;
  try {
    fs.mkdirSync(lock);
  } catch {
    const age = Date.now() - (fs.statSync(lock, { throwIfNoEntry: false })?.mtimeMs ?? 0);
    if (age < LOCK_STALE_MS) {
      log.info('provision: another window is setting up the sidecar; waiting for it');
      return (await waitForMarker(dir, LOCK_STALE_MS - age)) ? python : undefined;
    }
    log.warn('provision: a stale lock from an interrupted setup; starting over');
  }
  try {
    const base = await baseInterpreter(which);
    if (!base) {
      const msg = 'crowd needs Python 3.11 or newer to record, and none was found. Install Python (python.org, or your system\'s package manager), then run "crowd: Restart the sidecar".';
      log.error(`provision: ${msg}`);
      void vscode.window.showErrorMessage(msg);
      return undefined;
    }
    fs.rmSync(dir, { recursive: true, force: true }); // a half-made venv from an interrupted setup
    return await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: 'crowd: setting up the recorder' }, async (progress) => {
      const plan = steps(base, dir, bundle, manifest, process.platform);
      for (const [i, s] of plan.entries()) {
        progress.report({ message: `${s.title} (${i + 1}/${plan.length})`, increment: i ? 100 / plan.length : 0 });
        log.info(`provision: ${s.command} ${s.args.join(' ')}`);
        let r = await run(s.command, s.args);
        if (!r.ok && s.fallback) {
          log.info(`provision: ${r.output.split('\n').slice(-3).join(' | ')}; trying ${s.command} ${s.fallback.join(' ')}`);
          r = await run(s.command, s.fallback);
        }
        if (!r.ok) {
          log.error(`provision failed at "${s.title}":\n${r.output}`);
          void vscode.window.showErrorMessage(`crowd: setting up the recorder failed while ${s.title}: `
            + `${r.output.split('\n').pop() ?? ''} (details in the crowd log).`, 'Show log').then((pick) => pick && log.show());
          return undefined;
        }
      }
      fs.writeFileSync(path.join(dir, MARKER), `${manifest.wheel}\n`);
      log.info(`provision: the sidecar runs from ${python}`);
      return python;
    });
  } finally {
    fs.rmSync(lock, { recursive: true, force: true });
  }
}
