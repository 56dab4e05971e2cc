/**
 * Names and shapes of the wire protocol between the bridge and the sidecar
 * (docs/protocol.md is the reference). Kept free of `vscode` imports so the
 * pure logic that uses it can be unit tested in plain Node.
 */

/** Client -> sidecar notification carrying a batch of events in order. */
export const EVENTS_NOTIFICATION = 'crowd/events';
/** Sidecar -> client notification whenever the session state changes. */
export const STATUS_CHANGED_NOTIFICATION = 'crowd/statusChanged';

export const REQUESTS = {
  status: 'crowd/status',
  start: 'crowd/start',
  stop: 'crowd/stop',
  pause: 'crowd/pause',
  resume: 'crowd/resume',
  panic: 'crowd/panic',
  consent: 'crowd/consent',
  flush: 'crowd/flush',
} as const;

export type EventKind =
  | 'document_open' | 'document_change' | 'document_save' | 'document_close'
  | 'selection' | 'viewport' | 'active_editor' | 'file_op' | 'editor_command'
  | 'window_focus' | 'user_input'
  | 'terminal_open' | 'terminal_close' | 'terminal_focus' | 'terminal_resize'
  | 'terminal_data' | 'terminal_exec_start' | 'terminal_exec_end';

/** One client event; `time` (client epoch ms) is optional and ignored by the sidecar. */
export interface ClientEvent {
  kind: EventKind;
  time?: number;
  [field: string]: unknown;
}

export interface EventsParams {
  events: ClientEvent[];
}

/** The sidecar's session states (crowd.server.session.State). */
export type SidecarState = 'awaiting_consent' | 'declined' | 'recording' | 'paused' | 'stopped';

/** What crowd/status answers and crowd/statusChanged carries (fields the bridge uses). */
export interface SidecarStatus {
  state: SidecarState;
  consent?: boolean | null;
  sessionId?: string | null;
  /** Absolute folder of the current recording (only on the wire, never recorded). */
  recording?: string | null;
  events?: number | null;
  eventsWritten?: number | null;
  bytesWritten?: number | null;
  errors?: string[];
  [field: string]: unknown;
}

export interface PanicResult {
  removed: number;
  minutes: number;
  status: SidecarStatus;
}
