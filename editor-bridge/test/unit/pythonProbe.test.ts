import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { ProbeDeps, candidates, findPython, noPythonMessage, resolveOnPath, shebangInterpreter } from '../../src/core/pythonProbe';

function deps(over: Partial<ProbeDeps> & { files?: Record<string, string>; good?: string[] }): ProbeDeps {
  const files = over.files ?? {};
  const good = new Set(over.good ?? []);
  return {
    exists: (f) => f in files,
    readFile: (f) => files[f],
    which: (n) => (`/usr/bin/${n}` in files ? `/usr/bin/${n}` : undefined),
    runs: async (py) => good.has(py),
    env: over.env ?? {},
    home: '/home/u',
  };
}

test('shebangs: direct and via env', () => {
  assert.equal(shebangInterpreter('#!/opt/venv/bin/python\nimport x'), '/opt/venv/bin/python');
  assert.equal(shebangInterpreter('#!/usr/bin/env -S python3 -u\n'), 'python3');
  assert.equal(shebangInterpreter('no shebang'), undefined);
});

test('candidate order: setting, env, remembered, workspace venv, crowd shebang, python3', () => {
  const d = deps({
    env: { CROWD_PYTHON: '/env/python', CROWD_HOME: '/ch' },
    files: {
      '/ch/interpreter': '/remembered/python\n',
      '/ws/.venv/bin/python': '',
      '/usr/bin/crowd': '#!/crowd/venv/bin/python\n',
      '/usr/bin/python3': '',
    },
  });
  assert.deepEqual(candidates('/set/python', ['/ws'], d).map((c) => c.python), [
    '/set/python', '/env/python', '/remembered/python', '/ws/.venv/bin/python', '/crowd/venv/bin/python', '/usr/bin/python3',
  ]);
});

test('the first interpreter that can import crowd wins', async () => {
  const d = deps({ files: { '/ws/.venv/bin/python': '', '/usr/bin/python3': '' }, good: ['/usr/bin/python3'] });
  const r = await findPython('', ['/ws'], d);
  assert.equal(r.found?.python, '/usr/bin/python3');
  assert.equal(r.tried.length, 2);
});

// crowd-rollouts is not on PyPI and `crowd` there is an unrelated project: no hint may send
// the user to a package index by name
const NO_INDEX_NAME = /pip install (-U )?(crowd|crowd-rollouts)\b/;
const WHEEL = '/ext/python/crowd_rollouts-0.1.0-py3-none-any.whl';

test('none found: the message says what was tried and a fix that works on Linux', async () => {
  const none = await findPython('', ['/ws'], deps({ files: { '/usr/bin/python3': '' } }));
  assert.equal(none.found, undefined);
  const msg = noPythonMessage(none.tried, { platform: 'linux', setting: '', wheel: WHEEL });
  assert.match(msg, /\/usr\/bin\/python3/);
  assert.match(msg, /apt install python3 python3-venv/);
  assert.match(msg, /Restart the sidecar/);
  assert.match(msg, /python3 -m venv ~\/\.crowd-venv && ~\/\.crowd-venv\/bin\/pip install '\/ext\/python\/crowd_rollouts-0\.1\.0-py3-none-any\.whl'/);
  assert.match(msg, /Select the Python interpreter/);
  assert.doesNotMatch(msg, NO_INDEX_NAME);
});

test('none found on Windows and macOS: their own commands, no POSIX venv paths on Windows', () => {
  const win = noPythonMessage([], { platform: 'win32', setting: '', wheel: 'C:\\ext\\python\\crowd.whl' });
  assert.match(win, /py -m venv %USERPROFILE%\\\.crowd-venv/);
  assert.match(win, /\\Scripts\\pip install "C:\\ext\\python\\crowd\.whl"/);
  assert.doesNotMatch(win, /bin\/pip|python3 -m venv|apt/);
  const mac = noPythonMessage([], { platform: 'darwin', setting: '', wheel: WHEEL });
  assert.match(mac, /brew install python/);
  for (const msg of [win, mac]) {
    assert.doesNotMatch(msg, NO_INDEX_NAME);
  }
  assert.doesNotMatch(noPythonMessage([], { platform: 'linux', setting: '' }), /by hand/, 'no wheel shipped: no manual step');
});

test('a crowd.python that cannot run crowd: clear it or pick another, nothing to install', () => {
  const msg = noPythonMessage([{ python: '/opt/py', from: 'the crowd.python setting' }], { platform: 'linux', setting: '/opt/py', wheel: WHEEL });
  assert.match(msg, /crowd\.python setting names \/opt\/py/);
  assert.match(msg, /clear it/);
  assert.doesNotMatch(msg, /pip install/);
});

test('PATH lookup on Windows: PATHEXT extensions and ; between folders (real files)', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'crowd-which-'));
  try {
    const a = path.join(dir, 'a');
    const b = path.join(dir, 'b');
    fs.mkdirSync(a);
    fs.mkdirSync(b);
    fs.writeFileSync(path.join(b, 'python.exe'), '');
    fs.writeFileSync(path.join(a, 'python'), ''); // not an executable name on Windows
    const isFile = (f: string) => fs.existsSync(f) && fs.statSync(f).isFile();
    // path.win32.join keeps this machine's absolute POSIX folders usable as they are
    const env = { PATH: `${a};${b}`, PATHEXT: '.COM;.EXE;.BAT;.CMD' };
    const found = resolveOnPath('python', env, 'win32', (f) => isFile(f.replace(/\\/g, '/')));
    assert.equal(found?.replace(/\\/g, '/'), path.join(b, 'python.exe'), 'python is python.exe; a bare `python` is skipped');
    assert.equal(resolveOnPath('python.exe', env, 'win32', (f) => isFile(f.replace(/\\/g, '/')))?.replace(/\\/g, '/'),
      path.join(b, 'python.exe'));
    assert.equal(resolveOnPath('py', env, 'win32', (f) => isFile(f.replace(/\\/g, '/'))), undefined);
    // POSIX: ':' between folders, the bare name only
    assert.equal(resolveOnPath('python', { PATH: `${a}:${b}` }, 'linux', isFile), path.join(a, 'python'));
    assert.equal(resolveOnPath('python', { PATH: `${a};${b}` }, 'linux', isFile), undefined, '; is no separator there');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('Windows: venv Scripts\\python.exe, python and py (found with PATHEXT by which), no shebang probe', () => {
  const files: Record<string, string> = { 'C:\\ws\\.venv\\Scripts\\python.exe': '' };
  const d: ProbeDeps = {
    exists: (f) => f in files, readFile: () => undefined, runs: async () => false, env: {}, home: 'C:\\Users\\u',
    which: (n) => ({ python: 'C:\\Python312\\python.exe', py: 'C:\\Windows\\py.exe', crowd: 'C:\\x\\crowd.exe' } as Record<string, string>)[n],
    platform: 'win32',
  };
  assert.deepEqual(candidates('', ['C:\\ws'], d).map((c) => c.python),
    ['C:\\ws\\.venv\\Scripts\\python.exe', 'C:\\Python312\\python.exe', 'C:\\Windows\\py.exe']);
});

test('macOS: Homebrew and python.org interpreters even when PATH lacks them', () => {
  const d = deps({ files: { '/opt/homebrew/bin/python3': '' } });
  assert.deepEqual(candidates('', [], { ...d, platform: 'darwin' }).map((c) => c.python), ['/opt/homebrew/bin/python3']);
  assert.deepEqual(candidates('', [], d).map((c) => c.python), [], 'not looked for elsewhere');
});
