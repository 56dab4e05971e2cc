import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ProbeDeps, candidates, findPython, noPythonMessage, shebangInterpreter } from '../../src/core/pythonProbe';

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

test('the first interpreter that can import crowd wins; none gives a message with the fix', async () => {
  const d = deps({ files: { '/ws/.venv/bin/python': '', '/usr/bin/python3': '' }, good: ['/usr/bin/python3'] });
  const r = await findPython('', ['/ws'], d);
  assert.equal(r.found?.python, '/usr/bin/python3');
  assert.equal(r.tried.length, 2);
  const none = await findPython('', ['/ws'], deps({ files: { '/usr/bin/python3': '' } }));
  assert.equal(none.found, undefined);
  const msg = noPythonMessage(none.tried);
  assert.match(msg, /\/usr\/bin\/python3/);
  assert.match(msg, /Select the Python interpreter/);
  assert.match(msg, /-m venv .*pip install crowd-rollouts/);
  assert.doesNotMatch(msg, /pip install crowd(?!-rollouts)/, 'never the unrelated `crowd` package');
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
