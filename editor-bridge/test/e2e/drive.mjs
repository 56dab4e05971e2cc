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
let currentPage; // for the failure screenshot

async function runCommand(page, title, match = title, opensPicker = false) {
  await page.keyboard.press('F1');
  const input = page.locator('.quick-input-widget input');
  await input.waitFor({ state: 'visible', timeout: T });
  await input.fill(`>${title}`);
  const row = page.locator('.quick-input-list .monaco-list-row', { hasText: match }).first();
  await row.waitFor({ state: 'visible', timeout: T });
  await page.keyboard.press('Enter');
  if (!opensPicker) {
    await input.waitFor({ state: 'hidden', timeout: T });
  }
}

async function openFile(page, name) {
  await page.keyboard.press('Control+P');
  const quick = page.locator('.quick-input-widget input');
  await quick.waitFor({ state: 'visible' });
  await quick.fill(name);
  await page.locator('.quick-input-list .monaco-list-row', { hasText: name }).first().click();
  await page.locator('.tab.active', { hasText: name }).waitFor();
}

async function statusText(page) {
  return page.locator('.statusbar-item', { hasText: 'crowd' }).or(page.locator('.statusbar-item', { hasText: 'REC' })).first().innerText();
}

/**
 * Ctrl+V as Chromium handles it natively: headless Chromium does not map the shortcut to its
 * paste editing command by itself, so the key event carries the command (CDP), which makes
 * the browser fire a real, trusted paste event with the clipboard's text.
 */
async function pasteKey(page) {
  const cdp = await page.context().newCDPSession(page);
  const key = { key: 'v', code: 'KeyV', windowsVirtualKeyCode: 86, modifiers: 2 };
  await cdp.send('Input.dispatchKeyEvent', { type: 'keyDown', ...key, commands: ['paste'] });
  await cdp.send('Input.dispatchKeyEvent', { type: 'keyUp', ...key });
  await cdp.detach();
}

/** Declining is remembered across a reload and records nothing; consent can be changed later. */
async function consentScenario(page) {
  const dialog = page.locator('.monaco-dialog-box', { hasText: 'record how you work' });
  await dialog.waitFor({ timeout: 120_000 });
  await dialog.getByRole('button', { name: "Don't record", exact: true }).click();
  const off = page.locator('.statusbar-item', { hasText: 'crowd: off' });
  await off.waitFor({ timeout: T });
  await openFile(page, cfg.file);
  await page.locator('.monaco-editor .view-lines').first().click();
  await page.keyboard.type(cfg.typed, { delay: 10 });
  step('declined');
  await nextLine();

  await page.reload();
  await page.locator('.monaco-workbench').waitFor({ timeout: 120_000 });
  await off.waitFor({ timeout: 120_000 });
  await page.waitForTimeout(3_000); // the first-run dialog would have shown with the status by now
  step('reloaded', { prompts: await page.locator('.monaco-dialog-box', { hasText: 'record how you work' }).count() });

  // the status bar item opens the same dialog (with the current answer) through its menu's consent entry
  await runCommand(page, 'crowd: Change recording consent', 'Change recording consent');
  await dialog.waitFor({ timeout: T });
  await dialog.getByRole('button', { name: 'Record', exact: true }).click();
  await page.locator('.statusbar-item', { hasText: /REC \d\d:\d\d/ }).waitFor({ timeout: T });
  await openFile(page, cfg.file);
  await page.locator('.monaco-editor .view-lines').first().click();
  await page.keyboard.press('Control+End');
  await page.keyboard.type(' after-consent', { delay: 10 });
  step('granted');
  await nextLine();
  await runCommand(page, 'crowd: Replay this session', 'Replay this session');
  // the replay opens in a webview panel (code-server has no OS browser to hand a file to)
  await page.locator('.tab', { hasText: 'Replay' }).first().waitFor({ timeout: 120_000 });
  await page.waitForTimeout(1_500); // the page inside the webview paints
  if (cfg.shots) {
    await page.screenshot({ path: `${cfg.shots}/replay-webview.png` });
  }
  // the Recordings view in the Explorer lists the recording
  await page.keyboard.press('Control+Shift+E');
  const header = page.locator('.pane-header', { hasText: 'crowd Recordings' }).first();
  await header.waitFor({ timeout: T });
  if ((await header.getAttribute('aria-expanded')) !== 'true') {
    await header.click();
  }
  const row = page.locator('.pane-body .monaco-list-row', { hasText: cfg.sessionName ?? /\d{8}-\d{6}/ }).first();
  await row.waitFor({ timeout: T });
  if (cfg.shots) {
    await page.screenshot({ path: `${cfg.shots}/recordings-view.png` });
  }
  step('replay', { webview: true, listed: await row.innerText() });
  await nextLine();
}

async function main() {
  const browser = await chromium.launch({
    executablePath: cfg.chromium,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage'],
  });
  const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: new URL(cfg.url).origin });
  const page = await context.newPage();
  currentPage = page;
  page.setDefaultTimeout(T);
  await page.goto(cfg.url);
  await page.locator('.monaco-workbench').waitFor({ timeout: 120_000 });
  step('workbench');

  if (cfg.mode === 'consent') {
    await consentScenario(page);
    await browser.close();
    return;
  }

  // 1. consent at first run: the extension's modal dialog, answered through its button
  const dialog = page.locator('.monaco-dialog-box', { hasText: 'record how you work' });
  await dialog.waitFor({ timeout: 120_000 });
  if (cfg.shots) {
    await page.screenshot({ path: `${cfg.shots}/consent-dialog.png` });
  }
  await dialog.getByRole('button', { name: 'Record', exact: true }).click();
  await page.locator('.statusbar-item', { hasText: /REC \d\d:\d\d/ }).waitFor({ timeout: T });
  if (cfg.shots) {
    await page.locator('.part.statusbar').screenshot({ path: `${cfg.shots}/status-bar.png` });
  }
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
  if (cfg.mode !== 'typing') {
    await page.keyboard.press('End'); // a cursor move closes the typing undo group
    await page.keyboard.type('Z');
    await page.keyboard.press('Control+Z'); // an undo, recorded with reason "undo"
  }
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

  // 2b. an inline agent (the test-only extension editor-bridge/test/e2e/inline-agent) inserts
  // lines at the top of the visible editor through the editor API while the user types,
  // deletes and pastes at its end: the agent's edits must be `agent`, the user's `user`
  if (cfg.inlineFile) {
    await openFile(page, cfg.inlineFile);
    await editor.click();
    await runCommand(page, 'crowd test: run the fake inline agent');
    await editor.click();
    await page.keyboard.press('Control+End');
    const done = page.locator('.notification-toast', { hasText: 'inline agent done' });
    for (let round = 0; round < 40 && !(await done.count()); round++) {
      await page.keyboard.type(cfg.inlineTyped[round % cfg.inlineTyped.length], { delay: 30 });
      await page.keyboard.press('Backspace');
      await page.keyboard.press('Backspace');
      if (round % 3 === 1) { // a paste through the browser's clipboard and Ctrl+V
        // the user pauses before pasting: the editor cancels a paste when the text changes
        // while it asks paste providers (other extensions may have some)
        await page.waitForTimeout(400);
        const pasted = `${cfg.pasteText}_r${round}`;
        await page.evaluate((text) => navigator.clipboard.writeText(text), pasted);
        // the editor asks paste providers before it pastes; typing on at once would cancel
        // the paste, as it does for any provider in VS Code. The inline agent's own insert
        // cancels it too when it lands during that wait (CI, loaded: the paste never came):
        // the user pastes again, as a person would.
        const pastedLine = page.locator('.monaco-editor .view-lines', { hasText: pasted }).first();
        for (let attempt = 1; ; attempt++) {
          await pasteKey(page);
          try {
            await pastedLine.waitFor({ timeout: attempt < 6 ? 5_000 : T });
            break;
          } catch (err) {
            if (attempt >= 6) throw err;
          }
        }
      }
      await page.keyboard.press('Enter');
    }
    await done.waitFor({ timeout: T });
    await page.keyboard.press('Control+S');
    await page.locator('.tab.active.dirty').waitFor({ state: 'detached', timeout: T });
    step('inline', { agentDone: await done.innerText() });
  }

  // 3. a command in a terminal (bash with VS Code's shell integration)
  await runCommand(page, 'Terminal: Create New Terminal');
  const term = page.locator('.terminal-wrapper.active .xterm, .xterm').first();
  await term.waitFor();
  await term.click();
  await page.waitForTimeout(1500); // let the shell print its prompt and integration sequences
  await page.keyboard.type(cfg.terminalCommand, { delay: 10 });
  await page.keyboard.press('Enter');
  // the first terminal opened while recording brings the (explained) crowd term offer
  const offer = page.locator('.notification-toast', { hasText: 'crowd term' });
  await offer.waitFor({ timeout: T });
  if (cfg.shots) {
    await page.screenshot({ path: `${cfg.shots}/crowd-term-offer.png` });
  }
  await offer.getByRole('button', { name: 'Not now', exact: true }).click();
  step('terminal');

  // 3b. the `crowd term` profile contributed by the extension: a PTY recorded by crowd term
  await runCommand(page, 'Terminal: Create New Terminal (With Profile)', 'Create New Terminal (With Profile)', true);
  await page.locator('.quick-input-widget input[placeholder*="terminal profile"]').waitFor();
  await page.locator('.quick-input-list .monaco-list-row', { hasText: 'crowd term' }).first().click();
  const termTab = page.locator('.terminal-tabs-entry, .tabs-list .monaco-list-row', { hasText: 'crowd term' }).first();
  await termTab.waitFor({ timeout: T });
  await page.waitForTimeout(2500); // crowd term starts python, then the shell
  await termTab.click(); // make sure keys go to it, not to the first terminal
  await page.waitForTimeout(500);
  await page.locator('.terminal-wrapper.active .xterm').first().click();
  await page.keyboard.type(cfg.crowdTermCommand, { delay: 10 });
  await page.keyboard.press('Enter');
  step('crowdterm');

  // 4. another process changes a file behind the editor's back
  const r = spawnSync('sh', ['-c', `printf '%s\\n' "$1" >> "$2"`, 'sh', cfg.externalText, cfg.externalFile]);
  if (r.status !== 0) throw new Error(`external write failed: ${r.stderr}`);
  step('external', { pid: process.pid });

  // 5. a command that edits through a provider, via its default key (Linux: Ctrl+Shift+I):
  // the bridge binds no key; it sees white-space-only edits and records them as the user's
  await openFile(page, cfg.jsonFile);
  await editor.click();
  // The JSON language server registers its formatter some seconds after the file opens;
  // until then the same key shows "no formatter installed": cancel that and try again.
  const dirty = page.locator('.tab.active.dirty');
  const noFormatter = page.locator('.monaco-dialog-box', { hasText: 'no formatter' });
  let formatted = false;
  for (let i = 0; i < 40 && !formatted; i++) {
    await page.keyboard.press('Control+Shift+I');
    const outcome = await Promise.race([
      dirty.waitFor({ timeout: 5_000 }).then(() => 'dirty'),
      noFormatter.waitFor({ timeout: 5_000 }).then(() => 'none'),
    ]).catch(() => 'timeout');
    if (outcome === 'dirty') {
      formatted = true;
    } else if (outcome === 'none') {
      await noFormatter.getByRole('button', { name: 'Cancel' }).click();
      await noFormatter.waitFor({ state: 'detached' });
      await page.waitForTimeout(1_000);
      await editor.click();
    }
  }
  if (!formatted) throw new Error('the JSON formatter never became available');
  await page.keyboard.press('Control+S');
  await page.locator('.tab.active.dirty').waitFor({ state: 'detached', timeout: T });
  step('formatted');

  // 6. a rename in the explorer (F2 there is the explorer's, not the bridge's wrapper)
  await page.keyboard.press('Control+Shift+E');
  const row = page.locator('.explorer-folders-view .monaco-list-row', { hasText: cfg.renameFrom });
  await row.click();
  await page.keyboard.press('F2');
  const box = page.locator('.explorer-folders-view .monaco-inputbox input');
  await box.waitFor();
  await box.fill(cfg.renameTo);
  await page.keyboard.press('Enter');
  await page.locator('.explorer-folders-view .monaco-list-row', { hasText: cfg.renameTo }).waitFor();
  await page.keyboard.press('Control+1'); // focus back in the editor group
  step('renamed');

  // the test checks the recording holds all of the above, then lets the panic window pass
  await nextLine();

  // 7. something private typed, then panic right away
  await openFile(page, cfg.file);
  await editor.click();
  await page.keyboard.press('Control+End');
  await page.keyboard.press('Enter');
  await page.keyboard.type(cfg.secret, { delay: 15 });
  step('secret');
  await page.locator('.statusbar-item', { hasText: 'Panic' }).click();
  await page.locator('.notification-toast', { hasText: 'deleted the last' }).waitFor({ timeout: T });
  step('panic');

  // 8. the bridge's own cost, written to the stats file
  await runCommand(page, 'crowd: Show bridge overhead statistics');
  step('stats');

  // 9. the test kills the sidecar; the status bar must say so, then come back by itself.
  // Every text the status bar shows is collected by a MutationObserver (no polling race).
  await page.evaluate(() => {
    const seen = [];
    window.__crowdSeen = seen;
    const bar = document.querySelector('.part.statusbar');
    new MutationObserver(() => {
      for (const el of bar.querySelectorAll('.statusbar-item')) {
        const text = el.innerText.trim();
        if (text.includes('crowd') || text.includes('REC')) {
          if (seen[seen.length - 1] !== text) seen.push(text);
        }
      }
    }).observe(bar, { subtree: true, childList: true, characterData: true });
  });
  step('armed');
  if ((await nextLine()) === 'rec?') {
    await page.locator('.statusbar-item', { hasText: 'sidecar down' }).or(
      page.locator('.statusbar-item', { hasText: /REC 00:0\d/ })).first().waitFor({ timeout: T });
    await page.locator('.statusbar-item', { hasText: /REC \d\d:\d\d/ }).waitFor({ timeout: T });
    step('rec-again', { status: await statusText(page), seen: await page.evaluate(() => window.__crowdSeen) });
    await nextLine();
  }
  await browser.close();
}

main().then(() => process.exit(0), async (err) => {
  console.error(err && err.stack ? err.stack : String(err));
  if (currentPage && cfg.screenshot) {
    try {
      const dialog = await currentPage.locator('.monaco-dialog-box').allInnerTexts();
      const toasts = await currentPage.locator('.notification-toast').allInnerTexts();
      console.error(`dialogs: ${JSON.stringify(dialog)}\nnotifications: ${JSON.stringify(toasts)}`);
      await currentPage.screenshot({ path: cfg.screenshot, timeout: 10_000 });
    } catch (e) {
      console.error(`no screenshot: ${e}`);
    }
  }
  process.exit(1);
});
