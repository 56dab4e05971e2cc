/**
 * How much a press of panic deletes.
 *
 * The first press deletes the last `baseMinutes`; each further press within `repeatMs` of
 * the previous one widens the window by another `baseMinutes` (10, 20, 30 ... minutes back
 * from now), so a user who realises the secret was typed earlier just presses again.
 */
export class PanicEscalator {
  private presses = 0;
  private lastPress = -Infinity;

  constructor(private baseMinutes: number, private readonly repeatMs = 60_000) {}

  setBase(minutes: number): void {
    this.baseMinutes = minutes;
  }

  press(nowMs: number): number {
    this.presses = nowMs - this.lastPress <= this.repeatMs ? this.presses + 1 : 1;
    this.lastPress = nowMs;
    return this.baseMinutes * this.presses;
  }
}
