// Types a keystroke corpus into a real code-server (headless Chromium, playwright-core):
// each case opens its own file, types its keys, saves. tests/bridge/test_typing_corpus.py
// runs it with the bridge installed and without it and compares the saved documents.
// Steps: `type` text (delay ms per key, 0 = as fast as the browser takes them), `press` a
// key, `suggest` waits until the suggestion widget shows a focused suggestion (so the next
// keys are typed while it is open; `suggest: "text"` waits for that suggestion). A case with `reload: true` first reloads the window (`Developer: Reload
// Window`, as a user would) and waits for the workbench and `cfg.waitFor` again.
import { createRequire } from 'node:module';

const cfg = JSON.parse(process.argv[2]);
const require = createRequire(import.meta.url);
const { chromium } = require(cfg.playwright);
const T = 60_000;
const FOCUSED_SUGGESTION = '.editor-widget.suggest-widget.visible .monaco-list-row.focused';
let page;

async function openFile(name) {
  await page.keyboard.press('Control+P');
  const quick = page.locator('.quick-input-widget input');
  await quick.waitFor({ state: 'visible' });
  await quick.fill(name);
  await page.locator('.quick-input-list .monaco-list-row', { hasText: name }).first().click();
  await page.locator('.tab.active', { hasText: name }).waitFor();
}

async function reloadWindow() {
  await page.keyboard.press('F1');
  const input = page.locator('.quick-input-widget input');
  await input.waitFor({ state: 'visible' });
  await input.fill('>Developer: Reload Window');
  await page.locator('.quick-input-list .monaco-list-row', { hasText: 'Reload Window' }).first().waitFor();
  await Promise.all([page.waitForEvent('framenavigated', { timeout: 120_000 }), page.keyboard.press('Enter')]);
  await page.locator('.monaco-workbench').waitFor({ timeout: 120_000 });
  if (cfg.waitFor) {
    await page.locator('.statusbar-item', { hasText: cfg.waitFor }).first().waitFor({ timeout: 120_000 });
  }
  console.log('RELOADED');
}

async function main() {
  const browser = await chromium.launch({
    executablePath: cfg.chromium, headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage'],
  });
  const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
  page = await context.newPage();
  page.setDefaultTimeout(T);
  const t0 = Date.now();
  await page.goto(cfg.url);
  await page.locator('.monaco-workbench').waitFor({ timeout: 120_000 });
  if (cfg.consent) { // a first run: (the extension may first set up its sidecar) then the consent dialog
    const progress = page.locator('.notification-toast', { hasText: 'setting up the recorder' });
    const dialog = page.locator('.monaco-dialog-box', { hasText: 'record how you work' });
    const first = await Promise.race([progress.waitFor({ timeout: 300_000 }).then(() => 'progress'),
      dialog.waitFor({ timeout: 300_000 }).then(() => 'dialog')]);
    console.log(`FIRST ${first}`);
    if (first === 'progress' && cfg.shots) {
      await page.screenshot({ path: `${cfg.shots}/first-run-setup.png` }).catch(() => undefined);
    }
    await dialog.waitFor({ timeout: 600_000 });
    await dialog.getByRole('button', { name: 'Record', exact: true }).click();
  }
  if (cfg.waitFor) { // the bridge is up (its status bar item) before typing starts
    await page.locator('.statusbar-item', { hasText: cfg.waitFor }).first().waitFor({ timeout: 120_000 });
  }
  if (cfg.trace) {
    console.log(`TRACE ${JSON.stringify({ file: null, step: 'ready', ms: Date.now() - t0 })}`);
  }
  const editor = page.locator('.monaco-editor .view-lines').first();
  for (const c of cfg.cases) {
    if (c.reload) {
      await reloadWindow();
    }
    await openFile(c.file);
    await editor.click();
    await page.keyboard.press('Control+End');
    const started = Date.now();
    for (const [i, s] of c.steps.entries()) {
      if (cfg.trace && s.press) { // evidence for a difference: was a suggestion showing when the key went?
        const suggest = await page.locator('.editor-widget.suggest-widget.visible').count();
        const focused = await page.locator(FOCUSED_SUGGESTION).count(); // 0 while it says "Loading..."
        console.log(`TRACE ${JSON.stringify({ file: c.file, step: i, ms: Date.now() - started, press: s.press, suggest, focused })}`);
      }
      if (s.type !== undefined) {
        await page.keyboard.type(s.type, { delay: s.delay ?? 0 });
      } else if (s.press) {
        await page.keyboard.press(s.press);
      } else if (s.suggest) {
        // a suggestion shows, focused: what an Enter or Tab then accepts (`suggest: "text"`: that one)
        const shown = page.locator(FOCUSED_SUGGESTION, typeof s.suggest === 'string' ? { hasText: s.suggest } : {});
        await shown.first().waitFor({ timeout: T });
      } else if (s.wait) {
        await page.waitForTimeout(s.wait);
      }
    }
    await page.keyboard.press('Escape');
    await page.keyboard.press('Control+S');
    await page.locator('.tab.active.dirty').waitFor({ state: 'detached', timeout: T });
    if (cfg.trace) {
      console.log(`TRACE ${JSON.stringify({ file: c.file, step: 'saved', ms: Date.now() - started })}`);
    }
    console.log(`CASE ${c.file}`);
  }
  if (cfg.screenshot) {
    await page.screenshot({ path: cfg.screenshot });
  }
  await browser.close();
}

main().then(() => process.exit(0), async (err) => {
  console.error(err && err.stack ? err.stack : String(err));
  if (page && cfg.failShot) {
    await page.screenshot({ path: cfg.failShot }).catch(() => undefined);
  }
  process.exit(1);
});
