import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Manifest, baseInterpreters, baseNames, newEnough, steps, venvDir, venvPython } from '../../src/core/provision';

const manifest: Manifest = { wheel: 'crowd_rollouts-0.1.0-py3-none-any.whl', version: '0.1.0', pip: 'pip-26.3-py3-none-any.whl', deps: [], depsPlatform: 'linux-x86_64', depsPython: '3.11' };

test('the venv lives in the extension storage, one per crowd version', () => {
  assert.equal(venvDir('/gs/crowd.crowd-bridge', manifest, 'linux'), '/gs/crowd.crowd-bridge/sidecar-0.1.0');
  assert.equal(venvPython('/gs/sidecar-0.1.0', 'linux'), '/gs/sidecar-0.1.0/bin/python');
  assert.equal(venvPython('C:\\gs\\sidecar-0.1.0', 'win32'), 'C:\\gs\\sidecar-0.1.0\\Scripts\\python.exe');
  assert.deepEqual(baseNames('win32'), ['python', 'py']);
});

test('Python 3.11 or newer', () => {
  assert.ok(newEnough('3.11') && newEnough('3.13') && newEnough('4.0'));
  assert.ok(!newEnough('3.10') && !newEnough('2.7'));
});

test('steps: venv (without pip when ensurepip is missing), offline install from the bundle, online fallback, check', () => {
  const s = steps('/usr/bin/python3', '/gs/v', '/ext/python', manifest, 'linux');
  assert.deepEqual(s[0].args, ['-m', 'venv', '/gs/v']);
  assert.deepEqual(s[0].fallback, ['-m', 'venv', '--without-pip', '/gs/v']);
  assert.equal(s[1].command, '/gs/v/bin/python');
  assert.equal(s[1].args[0], '/ext/python/pip-26.3-py3-none-any.whl/pip', 'pip runs from its wheel');
  assert.ok(s[1].args.includes('--no-index') && s[1].args.at(-1) === '/ext/python/crowd_rollouts-0.1.0-py3-none-any.whl');
  assert.ok(!s[1].fallback?.includes('--no-index'), 'the fallback may use the package index');
  assert.ok(s[1].args.join(' ').includes('--find-links /ext/python/deps'));
  assert.deepEqual(s[2].args, ['-c', 'import crowd.server, crowd.cli']);
});

test('the venv\'s base interpreter: PATH first, then on macOS Homebrew\'s and python.org\'s (a Dock-started editor lacks them on PATH)', () => {
  const onPath: Record<string, string> = { python3: '/usr/bin/python3' };
  const present = new Set(['/opt/homebrew/bin/python3', '/Library/Frameworks/Python.framework/Versions/Current/bin/python3']);
  assert.deepEqual(baseInterpreters('darwin', (n) => onPath[n], (f) => present.has(f)),
    ['/usr/bin/python3', '/opt/homebrew/bin/python3', '/Library/Frameworks/Python.framework/Versions/Current/bin/python3']);
  assert.deepEqual(baseInterpreters('linux', (n) => onPath[n], (f) => present.has(f)), ['/usr/bin/python3']);
  const win: Record<string, string> = { python: 'C:\\Python312\\python.exe', py: 'C:\\Windows\\py.exe' };
  assert.deepEqual(baseInterpreters('win32', (n) => win[n], () => false), ['C:\\Python312\\python.exe', 'C:\\Windows\\py.exe']);
});
