/**
 * Terminals: open, close, focus, dimensions, user interaction, and shell executions
 * (command line, cwd, exit code) with their raw output stream (execution.read(), needs
 * shell integration, VS Code >= 1.93). Terminals get stable ids for the session.
 */
import * as vscode from 'vscode';
import type { EventHub } from '../hub';

export const CROWD_TERM_NAME = 'crowd term';

/**
 * Shell integration reports the cwd with the host's scheme: `file:` in VS Code, but
 * `vscode-local:` (code-server) or `vscode-remote:` (remote hosts) elsewhere. The sidecar
 * relativises `file:` URIs only, so those are turned into `file:` URIs of the same path.
 */
export function cwdUri(uri: vscode.Uri | undefined): string | null {
  if (!uri) {
    return null;
  }
  if (uri.scheme === 'file') {
    return uri.toString();
  }
  if (uri.scheme === 'vscode-local' || uri.scheme === 'vscode-remote') {
    return vscode.Uri.file(uri.path).toString();
  }
  return null; // an unknown scheme: better no cwd than a path the sidecar cannot relativise
}

export class TerminalIds {
  private readonly ids = new WeakMap<vscode.Terminal, string>();
  private next = 1;

  of(t: vscode.Terminal): string {
    let id = this.ids.get(t);
    if (id === undefined) {
      id = `term-${this.next++}`;
      this.ids.set(t, id);
    }
    return id;
  }
}

export function terminalOpenEvent(ids: TerminalIds, t: vscode.Terminal) {
  return {
    kind: 'terminal_open' as const,
    terminal: ids.of(t),
    name: t.name,
    crowdTerm: t.name === CROWD_TERM_NAME, // recorded by `crowd term` itself, keystroke level
    time: Date.now(),
  };
}

async function streamOutput(hub: EventHub, terminal: string, exec: string, execution: vscode.TerminalShellExecution): Promise<void> {
  try {
    for await (const data of execution.read()) {
      hub.emit({ kind: 'terminal_data', terminal, exec, data, time: Date.now() });
    }
  } catch {
    // the terminal went away mid-stream; its close event says so
  }
}

export function registerTerminals(hub: EventHub, ids: TerminalIds): vscode.Disposable[] {
  const m = hub.meter;
  const execIds = new WeakMap<vscode.TerminalShellExecution, string>();
  let nextExec = 1;
  const execId = (e: vscode.TerminalShellExecution) => {
    let id = execIds.get(e);
    if (id === undefined) {
      id = `exec-${nextExec++}`;
      execIds.set(e, id);
    }
    return id;
  };
  const disposables = [
    vscode.window.onDidOpenTerminal(m.measure('terminal', (t: vscode.Terminal) => hub.emit(terminalOpenEvent(ids, t)))),
    vscode.window.onDidCloseTerminal(m.measure('terminal', (t: vscode.Terminal) => {
      hub.emit({ kind: 'terminal_close', terminal: ids.of(t), name: t.name, exitCode: t.exitStatus?.code ?? null, time: Date.now() });
    })),
    vscode.window.onDidChangeActiveTerminal(m.measure('terminal', (t: vscode.Terminal | undefined) => {
      hub.emit({ kind: 'terminal_focus', terminal: t ? ids.of(t) : null, name: t?.name ?? null, time: Date.now() });
    })),
    vscode.window.onDidChangeTerminalState(m.measure('terminal', (t: vscode.Terminal) => {
      if (t.state.isInteractedWith) {
        hub.emit({ kind: 'user_input', what: 'terminal', terminal: ids.of(t), time: Date.now() });
      }
    })),
    vscode.window.onDidStartTerminalShellExecution(m.measure('terminal', (e: vscode.TerminalShellExecutionStartEvent) => {
      const terminal = ids.of(e.terminal);
      const exec = execId(e.execution);
      hub.emit({
        kind: 'terminal_exec_start',
        terminal,
        exec,
        command: e.execution.commandLine.value,
        confidence: e.execution.commandLine.confidence,
        cwd: cwdUri(e.execution.cwd),
        time: Date.now(),
      });
      void streamOutput(hub, terminal, exec, e.execution);
    })),
    vscode.window.onDidEndTerminalShellExecution(m.measure('terminal', (e: vscode.TerminalShellExecutionEndEvent) => {
      hub.emit({
        kind: 'terminal_exec_end',
        terminal: ids.of(e.terminal),
        exec: execId(e.execution),
        command: e.execution.commandLine.value,
        cwd: cwdUri(e.execution.cwd),
        exitCode: e.exitCode ?? null,
        time: Date.now(),
      });
    })),
  ];
  const dims = dimensionsEvent();
  if (dims) {
    disposables.push(dims((e) => m.measure('terminal', () => hub.emit({
      kind: 'terminal_resize', terminal: ids.of(e.terminal), name: e.terminal.name,
      rows: e.dimensions.rows, cols: e.dimensions.columns, time: Date.now(),
    }))()));
  }
  return disposables;
}

interface DimensionsChange {
  terminal: vscode.Terminal;
  dimensions: { rows: number; columns: number };
}

/**
 * `window.onDidChangeTerminalDimensions` is still a proposed API (terminalDimensions): it
 * exists only when the host enables it for this extension (`--enable-proposed-api
 * crowd.crowd-bridge`), and touching it otherwise throws. Without it, sizes of `crowd term`
 * terminals are recorded by crowd term itself (it owns the PTY).
 */
function dimensionsEvent(): vscode.Event<DimensionsChange> | undefined {
  try {
    const ev = (vscode.window as unknown as { onDidChangeTerminalDimensions?: vscode.Event<DimensionsChange> }).onDidChangeTerminalDimensions;
    return typeof ev === 'function' ? ev : undefined;
  } catch {
    return undefined;
  }
}
