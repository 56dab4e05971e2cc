/** Real file system / process access for the interpreter probe (core/pythonProbe.ts). */
import * as cp from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import type { MachineFact } from './core/consent';
import { Candidate, PROBE_CODE, ProbeDeps, ProbeResult, candidates, findPython, resolveOnPath } from './core/pythonProbe';
import { log } from './log';

function executableFile(file: string): boolean {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

/** An executable on PATH (Windows: with PATHEXT's extensions; core/pythonProbe.ts). */
export function which(name: string): string | undefined {
  return resolveOnPath(name, process.env, process.platform, executableFile);
}

const deps: ProbeDeps = {
  exists: (f) => fs.existsSync(f),
  readFile: (f) => {
    try {
      return fs.readFileSync(f, 'utf8').slice(0, 4096);
    } catch {
      return undefined;
    }
  },
  which,
  runs: (python, code) =>
    new Promise((resolve) => {
      cp.execFile(python, ['-c', code], { timeout: 20_000 }, (err, _stdout, stderr) => {
        if (err) {
          log.info(`python probe: ${python} cannot import crowd (${(stderr || err.message).trim().split('\n').pop()})`);
        }
        resolve(!err);
      });
    }),
  env: process.env,
  home: os.homedir(),
  platform: process.platform,
};

export function probePython(setting: string, folders: string[], extra: readonly Candidate[] = []): Promise<ProbeResult> {
  return findPython(setting, folders, deps, extra);
}

const FACT_CODE = 'import json\nfrom crowd.home import read_consent_fact\nf = read_consent_fact()\nprint(json.dumps(f and f.state))';

/** The machine's consent fact through the sidecar's interpreter (null: none, or unreadable here). */
export function readConsentFact(python: string): Promise<MachineFact> {
  return new Promise((resolve) => {
    cp.execFile(python, ['-c', FACT_CODE], { timeout: 20_000 }, (err, stdout) => {
      if (err) {
        log.warn(`could not read the machine's consent fact: ${err.message.trim().split('\n').pop()}`);
        resolve(null);
        return;
      }
      const value = String(stdout).trim();
      resolve(value === '"granted"' ? 'granted' : value === '"declined"' ? 'declined' : value === '"paused"' ? 'paused' : null);
    });
  });
}

/** Every candidate, each asked whether it can import crowd (the interpreter picker's list). */
export async function checkedCandidates(setting: string, folders: string[]): Promise<(Candidate & { ok: boolean })[]> {
  const list = candidates(setting, folders, deps);
  return Promise.all(list.map(async (c) => ({ ...c, ok: await deps.runs(c.python, PROBE_CODE) })));
}
