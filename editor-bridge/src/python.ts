/** Real file system / process access for the interpreter probe (core/pythonProbe.ts). */
import * as cp from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { ProbeDeps, ProbeResult, findPython } from './core/pythonProbe';
import { log } from './log';

function which(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (!dir) {
      continue;
    }
    const file = path.join(dir, name);
    try {
      fs.accessSync(file, fs.constants.X_OK);
      return file;
    } catch {
      // not here
    }
  }
  return undefined;
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
};

export function probePython(setting: string, folders: string[]): Promise<ProbeResult> {
  return findPython(setting, folders, deps);
}
