/**
 * The status bar's truth: what the sidecar says, never what the bridge hopes.
 *
 * The bar shows "recording" only while (1) the sidecar process is connected, (2) its last
 * status answer says `recording`, (3) that answer is fresh (the sidecar answered a poll
 * recently) and (4) it reports no write errors. Anything else shows as paused / waiting for
 * consent / stopped / error. Pure (no `vscode` import): the UI layer renders `view()`.
 */
import type { SidecarStatus } from './protocol';

export type Connection =
  | { kind: 'starting' }
  | { kind: 'up' }
  | { kind: 'down'; reason: string; retryInMs?: number }
  | { kind: 'no_python'; reason: string }
  /** Nothing is recorded in this window on purpose (its folder holds crowd's recordings). */
  | { kind: 'disabled'; reason: string };

export type Mode = 'starting' | 'consent' | 'declined' | 'recording' | 'paused' | 'stopped' | 'error';

export interface StatusView {
  mode: Mode;
  /** Status bar text (with codicons). */
  text: string;
  tooltip: string;
  /** True only when the sidecar confirmed it is writing. */
  recording: boolean;
}

export function formatDuration(ms: number): string {
  const total = Math.max(0, Math.floor(ms / 1000));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  const mm = String(m).padStart(2, '0');
  const ss = String(s).padStart(2, '0');
  return h > 0 ? `${h}:${mm}:${ss}` : `${mm}:${ss}`;
}

export class StatusModel {
  private connection: Connection = { kind: 'starting' };
  private last: SidecarStatus | undefined;
  private lastAt = 0;
  /** Local clock (ms) at which the current recording stretch began, derived from the sidecar's elapsed time. */
  private recordingSince: number | undefined;
  private sessionId: string | undefined;
  private prevWritten: number | undefined;

  /** @param staleMs a status older than this no longer proves the sidecar is writing. */
  constructor(private readonly staleMs: number) {}

  setConnection(connection: Connection): void {
    this.connection = connection;
    if (connection.kind !== 'up') {
      this.last = undefined;
      this.recordingSince = undefined;
    }
  }

  getConnection(): Connection {
    return this.connection;
  }

  /** A status answer or statusChanged notification arrived at local time `nowMs`. */
  setStatus(status: SidecarStatus, nowMs: number): void {
    if (this.connection.kind !== 'up') {
      return; // a late answer from a process that is gone proves nothing
    }
    this.prevWritten = this.last?.sessionId === status.sessionId ? this.last?.eventsWritten ?? undefined : undefined;
    this.last = status;
    this.lastAt = nowMs;
    if (status.sessionId !== this.sessionId) {
      this.sessionId = status.sessionId ?? undefined;
      this.recordingSince = undefined;
    }
    if (status.state === 'recording' && this.recordingSince === undefined) {
      this.recordingSince = nowMs;
    } else if (status.state === 'stopped' || status.state === 'declined' || status.state === 'awaiting_consent') {
      this.recordingSince = undefined;
    }
  }

  getStatus(): SidecarStatus | undefined {
    return this.last;
  }

  /**
   * The writer is failing: its last problem is a write failure and, since the previous
   * status, no event reached the disk although some are waiting. (The sidecar retries
   * failed writes, so an old failure followed by progress is not an error any more.)
   */
  private writeFailed(s: SidecarStatus): boolean {
    const errors = s.errors ?? [];
    const last = errors[errors.length - 1] ?? '';
    if (!/writing the recording failed|ENOSPC|No space left/i.test(last)) {
      return false;
    }
    const written = s.eventsWritten ?? 0;
    const pending = (s.events ?? 0) > written;
    return pending && this.prevWritten !== undefined && written <= this.prevWritten;
  }

  view(nowMs: number): StatusView {
    const c = this.connection;
    if (c.kind === 'starting') {
      return { mode: 'starting', text: '$(loading~spin) crowd', tooltip: 'crowd: starting the sidecar…', recording: false };
    }
    if (c.kind === 'no_python') {
      return { mode: 'error', text: '$(error) crowd: no Python', tooltip: `crowd is not recording: ${c.reason}`, recording: false };
    }
    if (c.kind === 'disabled') {
      return { mode: 'declined', text: '$(circle-slash) crowd: off here', tooltip: `crowd records nothing in this window: ${c.reason}`, recording: false };
    }
    if (c.kind === 'down') {
      const retry = c.retryInMs !== undefined ? ` Restarting in ${Math.ceil(c.retryInMs / 1000)} s.` : '';
      return { mode: 'error', text: '$(error) crowd: sidecar down', tooltip: `crowd is not recording: ${c.reason}.${retry}`, recording: false };
    }
    const s = this.last;
    if (s === undefined) {
      return { mode: 'starting', text: '$(loading~spin) crowd', tooltip: 'crowd: waiting for the sidecar status…', recording: false };
    }
    if (nowMs - this.lastAt > this.staleMs) {
      return { mode: 'error', text: '$(error) crowd: no answer', tooltip: 'crowd: the sidecar stopped answering; nothing is known to be recorded.', recording: false };
    }
    const errors = s.errors ?? [];
    const problems = errors.length ? ` Last problem: ${errors[errors.length - 1]}` : '';
    switch (s.state) {
      case 'awaiting_consent':
        return { mode: 'consent', text: '$(shield) crowd: consent?', tooltip: 'crowd records nothing until you agree. Click to decide.', recording: false };
      case 'declined':
        return { mode: 'declined', text: '$(circle-slash) crowd: off', tooltip: 'You declined recording. Click to change.', recording: false };
      case 'stopped':
        return { mode: 'stopped', text: '$(primitive-square) crowd: stopped', tooltip: 'Not recording. Click to start.', recording: false };
      case 'paused':
        return { mode: 'paused', text: '$(debug-pause) crowd: paused', tooltip: 'Recording paused: nothing is written. Click to resume.', recording: false };
      case 'recording': {
        if (this.writeFailed(s)) {
          return { mode: 'error', text: '$(error) crowd: write error', tooltip: `crowd cannot write the recording.${problems}`, recording: false };
        }
        const since = this.recordingSince ?? nowMs;
        return {
          mode: 'recording',
          text: `$(record) REC ${formatDuration(nowMs - since)}`,
          tooltip: `crowd is recording session ${s.sessionId ?? ''} (${s.eventsWritten ?? 0} events written). Click for pause, stop, panic.${problems}`,
          recording: true,
        };
      }
      default:
        return { mode: 'error', text: '$(error) crowd: ?', tooltip: `crowd: unknown sidecar state ${String(s.state)}`, recording: false };
    }
  }
}
