// Drives a real code-server in headless Chromium (playwright-core) through the end-to-end
// scenario of tests/bridge/test_editor_e2e.py. The test (Python) owns code-server and reads
// the recording; this script only does what a user would do in the browser, and a
// separate-process file change. Protocol with the test: it prints `STEP <name>` lines on
// stdout when a phase is done and, where the test must check something first, waits for a
// line on stdin.
import { createRequire } from 'node:module';
import { spawnSync } from 'node:child_process';
import * as readline from 'node:readline';

const cfg = JSON.parse(process.argv[2]);
const require = createRequire(import.meta.url);
const { chromium } = require(cfg.playwright);

const lines = readline.createInterface({ input: process.stdin });
const waiting = [];
lines.on('line', (l) => { const w = waiting.shift(); if (w) w(l); });
const nextLine = () => new Promise((resolve) => waiting.push(resolve));
const step = (name, extra = {}) => console.log(`STEP ${JSON.stringify({ name, ...extra })}`);
const T = 60_000;

async function runCommand(page, title) {
  await page.keyboard.press('F1');
  const input = page.locator('.quick-input-widget input');
  await input.waitFor({ state: 'visible', timeout: T });
  await input.fill(`>${title}`);
  const row = page.locator('.quick-input-list .monaco-list-row', { hasText: title }).first();
  await row.waitFor({ state: 'visible', timeout: T });
  await page.keyboard.press('Enter');
  await input.waitFor({ state: 'hidden', timeout: T });
}

async function statusText(page) {
  return page.locator('.statusbar-item', { hasText: 'crowd' }).or(page.locator('.statusbar-item', { hasText: 'REC' })).first().innerText();
}

async function main() {
  const browser = await chromium.launch({
    executablePath: cfg.chromium,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage'],
  });
  const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
  const page = await context.newPage();
  page.setDefaultTimeout(T);
  await page.goto(cfg.url);
  await page.locator('.monaco-workbench').waitFor({ timeout: 120_000 });
  step('workbench');

  // 1. consent at first run: the extension's notification, answered through its button
  const toast = page.locator('.notification-toast', { hasText: 'crowd can record' });
  await toast.waitFor({ timeout: 120_000 });
  await toast.getByRole('button', { name: 'Record', exact: true }).click();
  const offer = page.locator('.notification-toast', { hasText: 'crowd term' });
  await offer.getByRole('button', { name: 'Not now', exact: true }).click();
  await page.locator('.statusbar-item', { hasText: /REC \d\d:\d\d/ }).waitFor({ timeout: T });
  step('recording', { status: await statusText(page) });

  // 2. type in a file and save it
  await page.keyboard.press('Control+P');
  const quick = page.locator('.quick-input-widget input');
  await quick.waitFor({ state: 'visible' });
  await quick.fill(cfg.file);
  await page.locator('.quick-input-list .monaco-list-row', { hasText: cfg.file }).first().waitFor();
  await page.keyboard.press('Enter');
  const editor = page.locator('.monaco-editor .view-lines').first();
  await editor.waitFor();
  await editor.click();
  await page.keyboard.press('Control+End');
  await page.keyboard.press('Enter');
  await page.keyboard.type(cfg.typed, { delay: 15 });
  await page.keyboard.press('Control+S');
  await page.locator('.tab.active.dirty').waitFor({ state: 'detached', timeout: T });
  step('typed');

  if (cfg.mode === 'typing') { // bench/bench_bridge.py: only the cost of typing
    await runCommand(page, 'crowd: Show bridge overhead statistics');
    step('stats');
    await nextLine();
    await browser.close();
    return;
  }

  // 3. a command in a terminal (bash with VS Code's shell integration)
  await runCommand(page, 'Terminal: Create New Terminal');
  const term = page.locator('.terminal-wrapper.active .xterm, .xterm').first();
  await term.waitFor();
  await term.click();
  await page.waitForTimeout(1500); // let the shell print its prompt and integration sequences
  await page.keyboard.type(cfg.terminalCommand, { delay: 10 });
  await page.keyboard.press('Enter');
  step('terminal');

  // 4. another process changes a file behind the editor's back
  const r = spawnSync('sh', ['-c', `printf '%s\\n' "$1" >> "$2"`, 'sh', cfg.externalText, cfg.externalFile]);
  if (r.status !== 0) throw new Error(`external write failed: ${r.stderr}`);
  step('external', { pid: process.pid });

  // the test checks the recording holds all of the above, then lets the panic window pass
  await nextLine();

  // 5. something private typed, then panic right away
  await page.keyboard.press('Control+P');
  await quick.waitFor({ state: 'visible' });
  await quick.fill(cfg.file);
  await page.locator('.quick-input-list .monaco-list-row', { hasText: cfg.file }).first().waitFor();
  await page.keyboard.press('Enter');
  await editor.click();
  await page.keyboard.press('Control+End');
  await page.keyboard.press('Enter');
  await page.keyboard.type(cfg.secret, { delay: 15 });
  step('secret');
  await page.locator('.statusbar-item', { hasText: 'Panic' }).click();
  await page.locator('.notification-toast', { hasText: 'deleted the last' }).waitFor({ timeout: T });
  step('panic');

  // 6. the bridge's own cost, written to the stats file
  await runCommand(page, 'crowd: Show bridge overhead statistics');
  step('stats');

  // 7. the test kills the sidecar; the status bar must come back to recording by itself
  if ((await nextLine()) === 'rec?') {
    await page.locator('.statusbar-item', { hasText: /REC \d\d:\d\d/ }).waitFor({ timeout: T });
    step('rec-again', { status: await statusText(page) });
    await nextLine();
  }
  await browser.close();
}

main().then(() => process.exit(0), (err) => {
  console.error(err && err.stack ? err.stack : String(err));
  process.exit(1);
});
