/**
 * The session this editor window recorded last, so a new sidecar continues it.
 *
 * Every sidecar process used to start a session of its own: a window reload, a settings
 * change or a new browser tab on the same workspace split a morning's work into fragments
 * (15 in 40 minutes of a trial in code-server) and "Replay this session" showed only the
 * last one. The window's workspaceState keeps the id of the session it recorded last; each
 * new sidecar is asked to continue it (`initializationOptions.continueSession`), and the
 * sidecar does so only when that is safe (crowd.server.continuation: same day, its folder
 * still there, no other live writer in it), else it starts a new session, which is then
 * remembered instead. One session per editor window per day.
 *
 * A process that crashed is restarted into a session of its own: whatever made it crash may
 * be in what it was writing, and a restart that reopened it could crash the same way at
 * every backoff step; its recording stays complete up to its last whole frame.
 */
import type { KeyValueStore } from './consent';
import type { SidecarStatus } from './protocol';

const KEY = 'crowd.session';
const SESSION_ID = /^\d{8}-\d{6}-[0-9a-f]{6}$/;

export class SessionMemory {
  constructor(private readonly store: KeyValueStore) {}

  /** The session to continue, if one was remembered. */
  last(): string | undefined {
    const id = this.store.get<unknown>(KEY);
    return typeof id === 'string' && SESSION_ID.test(id) ? id : undefined;
  }

  /** Remember the session a status names while it records (or is paused). */
  async remember(status: SidecarStatus): Promise<void> {
    const id = status.sessionId;
    if ((status.state === 'recording' || status.state === 'paused') && typeof id === 'string'
        && SESSION_ID.test(id) && id !== this.last()) {
      await this.store.update(KEY, id);
    }
  }
}

/** What a new process is asked to continue: nothing right after a crash. */
export function continuedSession(crashed: boolean, remembered: string | undefined): string | undefined {
  return crashed ? undefined : remembered;
}
