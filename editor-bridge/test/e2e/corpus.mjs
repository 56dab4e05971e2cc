// Types a keystroke corpus into a real code-server (headless Chromium, playwright-core):
// each case opens its own file, types its keys, saves. tests/bridge/test_typing_corpus.py
// runs it with the bridge installed and without it and compares the saved documents.
// Steps: `type` text (delay ms per key, 0 = as fast as the browser takes them), `press` a
// key, `suggest` waits until the suggestion widget shows a focused suggestion (so the next
// keys are typed while it is open; `suggest: "text"` waits for that suggestion), `await`
// waits until the editor shows a state read from the DOM (see STATE below: `suggest` the
// focused suggestion's label or false for no widget, `snippet` placeholders shown or not,
// `selected` a selection shown or not, `text` a string the document shows, `lines` the
// document's lines as shown). A case with `reload: true` first reloads the window (`Developer: Reload
// Window`, as a user would) and waits for the workbench and `cfg.waitFor` again.
// With `cfg.trace`, every key event is snapshotted in the page at the instant it arrives
// (a capture-phase keydown listener, before the editor sees it): the step it belongs to and
// the editor's state then; each `await` prints the state it settled on (a checkpoint the
// test compares between runs).
import { createRequire } from 'node:module';

const cfg = JSON.parse(process.argv[2]);
const require = createRequire(import.meta.url);
const { chromium } = require(cfg.playwright);
const T = 60_000;
const FOCUSED_SUGGESTION = '.editor-widget.suggest-widget.visible .monaco-list-row.focused';
let page;

/**
 * The editor state a key's effect depends on, read from the DOM of the focused editor (the
 * DOM is rendered from the editor's state, so a state shown here has been reached): the
 * suggestion widget (null: hidden; 'message': shown without a list, e.g. "Loading..."; else
 * the focused row's label, or '' when it shows no focused row); snippet placeholders shown
 * (a snippet session is on); selections shown; inline-suggestion ghost text shown; the
 * document's lines as rendered (small files: every line is rendered).
 * Installed in the page (addInitScript) so that it survives a window reload.
 */
function installState() {
  const state = () => {
    const active = document.activeElement;
    const ed = active && active.closest ? active.closest('.monaco-editor') : null;
    const widget = [...document.querySelectorAll('.editor-widget.suggest-widget.visible')][0] ?? null;
    let suggest = null;
    if (widget) {
      const row = widget.querySelector('.monaco-list-row.focused');
      const label = row && (row.querySelector('.label-name') ?? row).textContent;
      suggest = widget.classList.contains('message') ? 'message' : (label ?? '');
    }
    const count = (sel) => (ed ? ed.querySelectorAll(sel).length : 0);
    const lines = ed ? [...ed.querySelectorAll('.view-lines .view-line')]
      .sort((a, b) => parseFloat(a.style.top) - parseFloat(b.style.top))
      .map((l) => l.textContent.replace(/\u00a0/g, ' ')) : [];
    return {
      suggest, frozen: !!(widget && widget.classList.contains('frozen')),
      snippet: count('.snippet-placeholder') + count('.finish-snippet-placeholder'),
      selected: count('.selected-text'), ghost: count('.ghost-text-decoration'), lines,
    };
  };
  window.__crowdState = state;
  window.__crowdKeys = [];
  window.__crowdStep = null;
  window.__crowdT0 = performance.now();
  window.addEventListener('keydown', (e) => {
    if (window.__crowdStep === null) return;
    const ms = Math.round(performance.now() - window.__crowdT0);
    window.__crowdKeys.push({ step: window.__crowdStep, key: e.key, ms, ...state() });
  }, true);
}

/** Whether the state shown matches what an `await` step asks for (every key it names). */
function stateMatches(want) {
  const st = window.__crowdState();
  const text = st.lines.join('\n');
  if ('suggest' in want && (want.suggest === false ? st.suggest !== null : st.suggest !== want.suggest)) return false;
  if ('snippet' in want && (st.snippet > 0) !== want.snippet) return false;
  if ('selected' in want && (st.selected > 0) !== want.selected) return false;
  if ('ghost' in want && (st.ghost > 0) !== want.ghost) return false;
  if ('text' in want && !text.includes(want.text)) return false;
  if ('lines' in want && text !== want.lines.join('\n')) return false;
  return true;
}

async function awaitState(want, where) {
  try {
    await page.waitForFunction(stateMatches, want, { polling: 'raf', timeout: T });
  } catch (err) {
    const seen = await page.evaluate(() => window.__crowdState()).catch(() => null);
    throw new Error(`${where}: the editor never showed ${JSON.stringify(want)}; it shows ${JSON.stringify(seen)}`);
  }
}

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
  await page.addInitScript(installState);
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
    const mark = (step) => page.evaluate((i) => { window.__crowdStep = i; }, step);
    await page.evaluate(() => { window.__crowdKeys = []; window.__crowdT0 = performance.now(); });
    for (const [i, s] of c.steps.entries()) {
      if (cfg.trace) {
        await mark(i); // the keys of this step carry its index (taken in the page as they arrive)
      }
      if (s.type !== undefined) {
        await page.keyboard.type(s.type, { delay: s.delay ?? 0 });
      } else if (s.press) {
        await page.keyboard.press(s.press);
      } else if (s.suggest) {
        // a suggestion shows, focused: what an Enter or Tab then accepts (`suggest: "text"`: that one)
        const shown = page.locator(FOCUSED_SUGGESTION, typeof s.suggest === 'string' ? { hasText: s.suggest } : {});
        await shown.first().waitFor({ timeout: T });
      } else if (s.await) {
        const before = Date.now();
        await awaitState(s.await, `${c.file} step ${i}`);
        if (cfg.trace) {
          const st = await page.evaluate(() => window.__crowdState());
          console.log(`TRACE ${JSON.stringify({ file: c.file, step: i, ms: Date.now() - started, waited: Date.now() - before, await: s.await, state: st })}`);
        }
      } else if (s.wait) {
        await page.waitForTimeout(s.wait);
      }
    }
    if (cfg.trace) {
      await mark('end');
      const keys = await page.evaluate(() => window.__crowdKeys);
      for (const k of keys) {
        console.log(`TRACE ${JSON.stringify({ file: c.file, ...k })}`);
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
