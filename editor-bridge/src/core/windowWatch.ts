/**
 * Is the editor window still there? WHY: when the browser tab of code-server dies, the
 * server keeps the window's extension host alive for a reconnection grace period (hours),
 * and with it the sidecar, which kept recording "alongside" the new window's session. The
 * extension host is not told; what it can see is that calls into the window stop being
 * answered (they are queued for a reconnection). So the bridge pings the window (a
 * `setContext`, answered by the workbench) and, after `goneAfterMs` without an answer,
 * stops the recording; when the window answers again (it reconnected), it starts it again.
 * No `vscode` import: unit tested with a fake clock.
 */
export class WindowWatch {
  private pending = false;
  private lastAnswer: number;
  private gone = false;

  constructor(
    private readonly ping: () => PromiseLike<unknown>,
    private readonly onGone: () => void,
    private readonly onBack: () => void,
    private readonly now: () => number,
    private readonly goneAfterMs = 30_000,
  ) {
    this.lastAnswer = now();
  }

  /** Called periodically (every few seconds). */
  tick(): void {
    if (!this.pending) {
      this.pending = true;
      this.ping().then(() => this.answered(), () => this.answered());
    }
    if (!this.gone && this.now() - this.lastAnswer > this.goneAfterMs) {
      this.gone = true;
      this.onGone();
    }
  }

  get windowGone(): boolean {
    return this.gone;
  }

  private answered(): void {
    this.pending = false;
    this.lastAnswer = this.now();
    if (this.gone) {
      this.gone = false;
      this.onBack();
    }
  }
}
