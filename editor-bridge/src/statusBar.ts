/** The status bar: the recording state (from StatusModel) and a panic button while recording. */
import * as vscode from 'vscode';
import type { StatusModel } from './core/statusModel';

export class StatusBar implements vscode.Disposable {
  private readonly item = vscode.window.createStatusBarItem('crowd.status', vscode.StatusBarAlignment.Left, 100);
  private readonly panicItem = vscode.window.createStatusBarItem('crowd.panic', vscode.StatusBarAlignment.Left, 99);
  private readonly ticker: ReturnType<typeof setInterval>;

  constructor(private readonly model: StatusModel, private readonly extraTooltip: () => string = () => '') {
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
    const extra = this.extraTooltip();
    this.item.tooltip = extra ? `${v.tooltip}\n${extra}` : v.tooltip;
    this.item.backgroundColor = v.mode === 'error'
      ? new vscode.ThemeColor('statusBarItem.errorBackground')
      : v.mode === 'consent' || v.mode === 'paused' ? new vscode.ThemeColor('statusBarItem.warningBackground') : undefined;
    const panicMinutes = vscode.workspace.getConfiguration('crowd').get<number>('panicMinutes', 10);
    this.panicItem.tooltip = `crowd panic: delete the last ${panicMinutes} minutes of the recording (press again for more)`;
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
