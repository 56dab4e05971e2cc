/** The status bar: the recording state (from StatusModel) and a panic button while recording. */
import * as vscode from 'vscode';
import { formatMinutes } from './core/panic';
import type { StatusModel } from './core/statusModel';

export class StatusBar implements vscode.Disposable {
  private readonly item = vscode.window.createStatusBarItem('crowd.status', vscode.StatusBarAlignment.Left, 100);
  private readonly panicItem = vscode.window.createStatusBarItem('crowd.panic', vscode.StatusBarAlignment.Left, 99);
  private readonly ticker: ReturnType<typeof setInterval>;
  private mode: string | undefined;

  constructor(private readonly model: StatusModel, private readonly extraTooltip: () => string = () => '',
    private readonly nextPanicMinutes: () => number = () => 10) {
    this.item.name = 'crowd recording state';
    this.item.command = 'crowd.statusMenu';
    this.panicItem.name = 'crowd panic';
    this.panicItem.text = '$(flame) Panic';
    this.panicItem.command = 'crowd.panic';
    this.item.show();
    this.ticker = setInterval(() => this.render(), 1_000);
    this.render();
  }

  render(): void {
    const v = this.model.view(Date.now());
    this.item.text = v.text;
    if (v.mode !== this.mode) { // palette `when` clauses: Start only when stopped, Pause only while recording...
      this.mode = v.mode;
      void vscode.commands.executeCommand('setContext', 'crowd.mode', v.mode);
    }
    // undecided: the status bar opens the consent dialog itself, not a menu
    this.item.command = v.mode === 'consent' ? 'crowd.consent' : 'crowd.statusMenu';
    const extra = this.extraTooltip();
    this.item.tooltip = extra ? `${v.tooltip}\n${extra}` : v.tooltip;
    this.item.backgroundColor = v.mode === 'error'
      ? new vscode.ThemeColor('statusBarItem.errorBackground')
      : v.mode === 'consent' || v.mode === 'paused' ? new vscode.ThemeColor('statusBarItem.warningBackground') : undefined;
    this.panicItem.tooltip = `crowd panic: delete the last ${formatMinutes(this.nextPanicMinutes())} of the recording (press again within a minute for more)`;
    if (v.mode === 'recording' || v.mode === 'paused') {
      this.panicItem.show();
    } else {
      this.panicItem.hide();
    }
  }

  dispose(): void {
    clearInterval(this.ticker);
    this.item.dispose();
    this.panicItem.dispose();
  }
}
