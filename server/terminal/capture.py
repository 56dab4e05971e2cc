"""The capture process behind ``crowd term``: reads the copy loop's frames from stdin and
either streams them to a running sidecar or records them on its own.

*Sidecar*: when ``$CROWD_HOME/sidecar-ws.json`` names a live sidecar, frames become
``terminal_*`` events sent as ``crowd/events`` notifications over its loopback WebSocket
(token in the ``Authorization`` header), batched every 50 ms; the sidecar's terminal
component emulates and samples them into the editor's recording.

*Standalone*: otherwise a ``TerminalHub`` runs here and writes its own recording
(``<recordings>/<session_id>/``) with ``RecordingWriter``: session start/stop, actions and
10 Hz screens, exactly what the sidecar would record.
"""
from __future__ import annotations

import argparse
import base64
import json
import logging
import os
import resource
import struct
import sys
import threading
import time
import uuid
from pathlib import Path
from typing import Any

from crowd.server.terminal import wire
from crowd.server.terminal.hub import TerminalHub

log = logging.getLogger("crowd.term")
BATCH_SECONDS = 0.05


class StandaloneSink:
    """``record(type_, kind, **fields)`` into a recording folder of our own."""

    def __init__(self, directory: Path, t0_us: int, workspace: Path | None, command: str) -> None:
        from crowd.serializer.format import RecordingWriter  # noqa: PLC0415
        from crowd.serializer.format.schema import FORMAT_NAME, FORMAT_VERSION  # noqa: PLC0415

        self.directory = directory
        self.writer = RecordingWriter(directory)
        self.t0 = t0_us
        self.workspace = workspace.resolve() if workspace else None
        self.seq = 0
        self.lock = threading.Lock()
        self.redactor = _make_redactor()
        self.record("session", "start", session_id=directory.name, format=FORMAT_NAME,
                    format_version=FORMAT_VERSION,
                    folders=[self.workspace.name] if self.workspace else [],
                    client={"name": "crowd term", "version": _version()},
                    settings={"source": "crowd term", "command": command})

    def now(self) -> int:
        return time.monotonic_ns() // 1000 - self.t0

    def rel_path(self, path: str) -> str | None:
        if self.workspace is None:
            return None
        try:
            rel = Path(path).resolve().relative_to(self.workspace)
        except (ValueError, OSError):
            return None
        return rel.as_posix() if str(rel) != "." else "."

    def record(self, type_: str, kind: str, **fields: Any) -> dict[str, Any]:
        """Stamp, redact (as the sidecar's session does) and queue one event."""
        with self.lock:
            self.seq += 1
            event = {"seq": self.seq, "t": self.now(), "wall": int(time.time() * 1000),
                     "type": type_, "kind": kind, **fields}
            notes = []
            if self.redactor is not None:
                try:
                    notes = self.redactor.scrub_event(event)
                except Exception:  # noqa: BLE001 - a redactor bug must not lose the event
                    log.exception("redaction failed")
            self.writer.append(event)
            for note in notes:
                self.seq += 1
                self.writer.append({"seq": self.seq, "t": event["t"], "wall": event["wall"],
                                    "type": "redaction", "kind": "redaction", **note})
        return event

    def close(self, stats: dict[str, Any] | None = None) -> None:
        self.record("session", "stop", **({"stats": stats} if stats else {}))
        self.writer.close()


class SidecarSink:
    """Forwards frames as ``terminal_*`` events to a running sidecar over its WebSocket."""

    def __init__(self, info: dict[str, Any], term_id: str) -> None:
        from websockets.sync.client import connect  # noqa: PLC0415

        kwargs = {"additional_headers": {"Authorization": f"Bearer {info['token']}"},
                  "open_timeout": 3, "max_size": None}
        url = f"ws://127.0.0.1:{int(info['port'])}/"
        try:
            self.ws = connect(url, legacy=True, **kwargs)   # websockets >= 15: no context manager
        except TypeError:
            self.ws = connect(url, **kwargs)
        self.term_id = term_id
        self.events: list[dict[str, Any]] = []
        self.output: list[bytes] = []
        self.last_send = time.monotonic()
        self.program: str | None = None
        self.failed = False

    def add(self, event: dict[str, Any]) -> None:
        self._flush_output()
        event.setdefault("terminal", self.term_id)
        event["time"] = int(time.time() * 1000)
        self.events.append(event)

    def add_output(self, data: bytes) -> None:
        self.output.append(data)

    def _flush_output(self) -> None:
        if self.output:
            data = b"".join(self.output)
            self.output = []
            self.events.append({"kind": "terminal_data", "terminal": self.term_id,
                                "data": base64.b64encode(data).decode(), "encoding": "base64",
                                "program": self.program, "time": int(time.time() * 1000)})

    def maybe_send(self, force: bool = False) -> None:
        if self.failed or (not force and time.monotonic() - self.last_send < BATCH_SECONDS):
            return
        self._flush_output()
        if self.events:
            msg = {"jsonrpc": "2.0", "method": "crowd/events", "params": {"events": self.events}}
            self.events = []
            try:
                self.ws.send(json.dumps(msg))
            except Exception as exc:  # noqa: BLE001 - the sidecar went away
                self.failed = True
                log.warning("the sidecar went away (%s): the rest of this terminal is not recorded", exc)
        self.last_send = time.monotonic()

    def close(self) -> None:
        self.maybe_send(force=True)
        try:
            self.ws.close()
        except Exception:  # noqa: BLE001
            pass


def _make_redactor() -> Any:
    """The privacy part's redactor, as the sidecar session uses it (None if not installed)."""
    try:
        from crowd.server import privacy  # noqa: PLC0415
        factory = getattr(privacy, "make_redactor", None) or privacy.Redactor
        return factory()
    except Exception:  # noqa: BLE001 - record without redaction rather than not at all
        return None


def find_sidecar(token_file: Path) -> dict[str, Any] | None:
    try:
        info = json.loads(token_file.read_text())
        os.kill(int(info["pid"]), 0)
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return info


def run_standalone(frames, sink: StandaloneSink, term_id: str, meta: dict[str, Any]) -> dict[str, Any]:
    hub = TerminalHub(sink.record, now=sink.now, rel_path=sink.rel_path)
    t0 = meta["t0"]
    hub.open(term_id, meta.get("name", "crowd term"), meta["rows"], meta["cols"])
    hub.focus(term_id)
    hub.start()
    exit_code = None
    for kind, t, payload in frames:
        if kind == wire.OUTPUT:
            hub.output(term_id, payload, t - t0)
        elif kind in (wire.INPUT, wire.INPUT_HIDDEN):
            hub.input(term_id, payload, echo_off=kind == wire.INPUT_HIDDEN)
        elif kind == wire.RESIZE:
            rows, cols = struct.unpack("<HH", payload)
            hub.resize(term_id, rows, cols)
        elif kind == wire.PROGRAM:
            hub.set_program(term_id, payload.decode("utf-8", "replace"))
        elif kind == wire.EXIT:
            exit_code = int(payload or b"0")
    hub.stop()
    term = hub.get(term_id)
    stats = term.model.stats if term else None
    observations = term.observations if term else 0
    hub.close(term_id, exit_code)
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return {"capture_cpu_s": round(usage.ru_utime + usage.ru_stime, 3),
            "bytes": stats.bytes_in if stats else 0,
            "chars_emulated": stats.chars_emulated if stats else 0,
            "chars_skipped": stats.chars_skipped if stats else 0,
            "observations": observations}


def run_sidecar(frames, sink: SidecarSink, meta: dict[str, Any]) -> None:
    sink.add({"kind": "terminal_open", "name": meta.get("name", "crowd term"), "rows": meta["rows"],
              "cols": meta["cols"], "source": "crowd_term"})
    sink.add({"kind": "terminal_focus", "name": meta.get("name", "crowd term")})
    exit_code = None
    for kind, _t, payload in frames:
        if sink.failed:
            continue                  # keep draining: the terminal itself must not notice
        if kind == wire.OUTPUT:
            sink.add_output(payload)
        elif kind in (wire.INPUT, wire.INPUT_HIDDEN):
            hidden = kind == wire.INPUT_HIDDEN
            sink.add({"kind": "terminal_input", "hidden": hidden, "program": sink.program,
                      "data": None if hidden else base64.b64encode(payload).decode(),
                      "encoding": "base64"})
        elif kind == wire.RESIZE:
            rows, cols = struct.unpack("<HH", payload)
            sink.add({"kind": "terminal_resize", "rows": rows, "cols": cols})
        elif kind == wire.PROGRAM:
            sink.program = payload.decode("utf-8", "replace")
        elif kind == wire.EXIT:
            exit_code = int(payload or b"0")
        sink.maybe_send()
    if not sink.failed:
        sink.add({"kind": "terminal_close", "exitCode": exit_code})
    sink.close()


def _version() -> str:
    try:
        from crowd import __version__  # noqa: PLC0415
        return __version__
    except ImportError:
        return "0"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="crowd.server.terminal.capture")
    parser.add_argument("--recordings", type=Path, required=True)
    parser.add_argument("--workspace", type=Path, default=None)
    parser.add_argument("--sidecar", default="auto", help="auto, off, or a token file path")
    parser.add_argument("--session-id", default=None)
    parser.add_argument("--term-id", default=None)
    parser.add_argument("--announce", type=Path, default=None,
                        help="write the recording folder (or 'sidecar') here once known")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="crowd term: %(message)s")
    stdin = sys.stdin.buffer
    frames = wire.read_frames(stdin)
    first = next(frames, None)
    if first is None or first[0] != wire.META:
        return 1
    meta = json.loads(first[2])
    term_id = args.term_id or f"crowd-term-{os.getpid()}"
    info = None
    if args.sidecar != "off":
        from crowd.server.ws import default_token_file  # noqa: PLC0415
        if args.sidecar == "auto":
            # the editor bridge may name its own window's sidecar (several windows, several sidecars)
            named = os.environ.get("CROWD_SIDECAR_TOKEN_FILE")
            token_file = Path(named) if named else default_token_file()
        else:
            token_file = Path(args.sidecar)
        info = find_sidecar(token_file)
    if info is not None:
        try:
            sink = SidecarSink(info, term_id)
        except Exception as exc:  # noqa: BLE001 - fall back to recording on our own
            log.warning("sidecar unreachable (%s); recording standalone", exc)
        else:
            _announce(args.announce, "sidecar")
            run_sidecar(frames, sink, meta)
            return 0
    session_id = args.session_id or f"term-{time.strftime('%Y%m%d-%H%M%S')}-{uuid.uuid4().hex[:6]}"
    from crowd.home import private_dir  # noqa: PLC0415
    directory = private_dir(args.recordings) / session_id
    sink = StandaloneSink(directory, meta["t0"], args.workspace, meta.get("command", ""))
    _announce(args.announce, str(directory))
    stats = None
    try:
        stats = run_standalone(frames, sink, term_id, meta)
    finally:
        sink.close(stats)
    return 0


def _announce(path: Path | None, text: str) -> None:
    if path is not None:
        path.write_text(text)


if __name__ == "__main__":
    sys.exit(main())
