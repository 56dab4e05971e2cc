// Drives a real code-server in headless Chromium (playwright-core) for the attribution
// measurements (tests/attribution/codeserver/measure.py) and the attribution end-to-end test
// (tests/bridge/test_attribution_e2e.py). The Python side owns code-server, writes files from
// other processes and reads the recording; this script only does what a user does in the
// browser. Protocol: one JSON command per stdin line, answered by one `DONE <json>` line on
// stdout (or `FAIL <message>`).
import { createRequire } from 'node:module';
import * as readline from 'node:readline';

const cfg = JSON.parse(process.argv[2]);
const require = createRequire(import.meta.url);
const { chromium } = require(cfg.playwright);
const T = 60_000;

async function runCommand(page, title, match = title) {
  await page.keyboard.press('F1');
  const input = page.locator('.quick-input-widget input');
  await input.waitFor({ state: 'visible', timeout: T });
  await input.fill(`>${title}`);
  await page.locator('.quick-input-list .monaco-list-row', { hasText: match }).first().waitFor({ state: 'visible', timeout: T });
  await page.keyboard.press('Enter');
  await input.waitFor({ state: 'hidden', timeout: T });
}

async function openFile(page, name) {
  await page.keyboard.press('Control+P');
  const quick = page.locator('.quick-input-widget input');
  await quick.waitFor({ state: 'visible' });
  await quick.fill(name);
  await page.locator('.quick-input-list .monaco-list-row', { hasText: name }).first().click();
  await page.locator('.tab.active', { hasText: name.split('/').pop() }).waitFor();
}

function explorerRow(page, name) {
  const exact = new RegExp(`^\\s*${name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\s*$`);
  return page.locator('.explorer-folders-view .monaco-list-row').filter({ hasText: exact }).first();
}

const actions = {
  async consent(page) {
    // the bridge asks in a modal dialog since issue 17 (older builds: a notification toast)
    const toast = page.locator('.monaco-dialog-box', { hasText: 'record how you work' })
      .or(page.locator('.notification-toast', { hasText: 'crowd can record' })).first();
    await toast.waitFor({ timeout: 120_000 });
    await toast.getByRole('button', { name: 'Record', exact: true }).click();
    const offer = page.locator('.notification-toast', { hasText: 'crowd term' });
    await offer.getByRole('button', { name: 'Not now', exact: true }).click().catch(() => {});
    await page.locator('.statusbar-item', { hasText: /REC \d\d:\d\d/ }).waitFor({ timeout: T });
    return {};
  },
  async open(page, cmd) {
    for (const f of cmd.files) await openFile(page, f);
    return {};
  },
  /** Type at the end of a file and save with Ctrl+S (save participants run). */
  async typeSave(page, cmd) {
    await openFile(page, cmd.file);
    const editor = page.locator('.monaco-editor .view-lines').first();
    await editor.click();
    await page.keyboard.press('Control+End');
    await page.keyboard.type(cmd.text, { delay: 20 });
    await page.keyboard.press('Control+S');
    await page.locator('.tab.active.dirty').waitFor({ state: 'detached', timeout: T });
    return {};
  },
  async explorerRename(page, cmd) {
    await page.keyboard.press('Control+Shift+E');
    const row = explorerRow(page, cmd.from);
    await row.click();
    await page.keyboard.press('F2');
    const box = page.locator('.explorer-folders-view .monaco-inputbox input');
    await box.waitFor();
    await box.fill(cmd.to);
    await page.keyboard.press('Enter');
    await explorerRow(page, cmd.to).waitFor();
    return {};
  },
  async explorerDelete(page, cmd) {
    await page.keyboard.press('Control+Shift+E');
    await explorerRow(page, cmd.name).click();
    await page.keyboard.press('Delete');
    const dialog = page.locator('.monaco-dialog-box');
    await dialog.waitFor({ timeout: T });
    await dialog.locator('.monaco-button', { hasText: /Delete|Move to Trash/ }).first().click();
    await explorerRow(page, cmd.name).waitFor({ state: 'detached', timeout: T });
    return {};
  },
  async command(page, cmd) {
    await runCommand(page, cmd.title, cmd.match || cmd.title);
    return {};
  },
  async wait(page, cmd) {
    await page.waitForTimeout(cmd.ms);
    return {};
  },
};

async function main() {
  const browser = await chromium.launch({
    executablePath: cfg.chromium, headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage'],
  });
  const page = await (await browser.newContext({ viewport: { width: 1400, height: 900 } })).newPage();
  page.setDefaultTimeout(T);
  await page.goto(cfg.url);
  await page.locator('.monaco-workbench').waitFor({ timeout: 120_000 });
  console.log(`DONE ${JSON.stringify({ do: 'workbench' })}`);
  const lines = readline.createInterface({ input: process.stdin });
  for await (const line of lines) {
    const cmd = JSON.parse(line);
    if (cmd.do === 'quit') break;
    try {
      const out = await actions[cmd.do](page, cmd);
      console.log(`DONE ${JSON.stringify({ do: cmd.do, ...out })}`);
    } catch (err) {
      if (cfg.screenshot) await page.screenshot({ path: cfg.screenshot, timeout: 10_000 }).catch(() => {});
      console.log(`FAIL ${String(err && err.message || err).split('\n')[0]}`);
    }
  }
  await browser.close();
}

main().then(() => process.exit(0), (err) => { console.error(err && err.stack || String(err)); process.exit(1); });
