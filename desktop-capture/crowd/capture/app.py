"""``crowd cast record``: the recorder, its tray icon, signals and the upload hand-off.

The controller owns one :class:`Recorder` at a time (start/stop from the tray), keeps the
tray colour in step with the recorder's status, writes a status snapshot for ``crowd cast
status``, and answers SIGUSR1 (sent by ``crowd cast panic``) with "delete last 10 minutes".
Finished segments go to an upload sink as soon as they are closed; the sink is the upload
queue (``crowd.transfer``), whose hold (600 s) is the only one, otherwise segments
simply stay in the folder. Panic deletes the window's segment files here and asks the queue
to shred its held desktop bundles of that window.
"""
from __future__ import annotations

import collections
import json
import logging
import os
import signal
import threading
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any, Protocol

from crowd.format.desktop.layout import Segment
from crowd.home import read_consent_fact
from crowd.panic import PanicWatcher
from crowd.capture.recorder import Recorder, RecorderConfig
from crowd.capture.status import RecorderStatus
from crowd.capture.settings import CastSettings, pid_path, save_settings, status_path

log = logging.getLogger("crowd.capture")


class UploadSink(Protocol):
    """Where held segments go: the persisted upload queue (helper "upload"), or nowhere."""

    def enqueue(self, paths: list[Path]) -> None: ...
    def forget(self, paths: list[Path]) -> None: ...
    def forget_since(self, cutoff_wall: float, paths: list[Path]) -> None:
        """Drop ``paths`` and any bundle with content after ``cutoff_wall`` (epoch s)."""
        ...
    def set_paused(self, paused: bool) -> None: ...
    def drain(self, timeout: float = 120.0) -> bool:
        """Wait until everything handed over is queued; False on timeout."""
        ...


class LocalOnlySink:
    """No uploader configured: segments stay on disk; panic still deletes held ones."""

    def __init__(self) -> None:
        self.enqueued: list[Path] = []
        self.paused = False

    def enqueue(self, paths: list[Path]) -> None:
        self.enqueued.extend(paths)

    def forget(self, paths: list[Path]) -> None:
        gone = {str(p) for p in paths}
        self.enqueued = [p for p in self.enqueued if str(p) not in gone]

    def forget_since(self, cutoff_wall: float, paths: list[Path]) -> None:
        self.forget(paths)

    def set_paused(self, paused: bool) -> None:
        self.paused = paused

    def drain(self, timeout: float = 120.0) -> bool:
        return True   # nothing is handed on, so nothing is in flight


class QueueSink:
    """Hands segments to the persisted upload queue (crowd.transfer.UploadQueue).

    The queue bundles the files and holds the bundle for its own hold period (the only hold).
    Bundling (hashing and copying a segment) runs on a worker thread of its own, so the
    recorder's encoder thread never waits for it. On panic the recorder has already deleted
    the segment files; ``forget`` then waits for a bundle being written, and asks the queue to
    shred the held *desktop* bundles whose content reaches into the window -- only those (an
    editor recording's bundles are not this panic's business).
    """

    def __init__(self, queue: Any, window_seconds: float = 600.0) -> None:
        self.queue = queue
        self.window_seconds = window_seconds
        self.bundles: list[Any] = []          # what this sink queued (status, tests)
        self._pending: collections.deque[list[Path]] = collections.deque()
        self._cond = threading.Condition()
        self._working = 0
        self._bundling = threading.Lock()     # held while a bundle is written, and by forget
        self._thread: threading.Thread | None = None

    def enqueue(self, paths: list[Path]) -> None:
        with self._cond:
            self._pending.append(list(paths))
            if self._thread is None:
                self._thread = threading.Thread(target=self._work, name="crowd-cast-upload", daemon=True)
                self._thread.start()
            self._cond.notify_all()

    def _work(self) -> None:
        while True:
            with self._cond:
                while not self._pending:
                    self._cond.wait()
                paths = self._pending.popleft()
                self._working += 1
            try:
                with self._bundling:
                    self._bundle(paths)
            except Exception:  # noqa: BLE001 - e.g. panic deleted the files; the next start rescans
                log.exception("queueing segments for upload failed")
            finally:
                with self._cond:
                    self._working -= 1
                    self._cond.notify_all()

    def _bundle(self, paths: list[Path]) -> None:
        from crowd.transfer.bundle import Candidate

        from crowd.format.desktop.layout import parse_name

        by_session: dict[str, list[Path]] = {}
        for p in paths:
            parsed = parse_name(p.name)
            if parsed is not None:
                by_session.setdefault(parsed[1], []).append(p)
        for sid, files in by_session.items():
            bundle = self.queue.add(Candidate(sid, "desktop", files[0].parent, sorted(files)))
            if bundle is not None:
                self.bundles.append(bundle)

    def drain(self, timeout: float = 120.0) -> bool:
        """Wait until every handed segment is bundled (stop/quit); False on timeout."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while self._pending or self._working:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._cond.wait(left)
        return True

    def forget(self, paths: list[Path]) -> None:
        with self._bundling:   # a bundle being written now is committed first, then shredded
            removed = self.queue.panic(time.time() - self.window_seconds, kind="desktop")
        gone = set(removed)
        self.bundles = [b for b in self.bundles if b.id not in gone]

    def forget_since(self, cutoff_wall: float, paths: list[Path]) -> None:
        with self._bundling:
            removed = self.queue.purge(cutoff_wall, kind="desktop")
        gone = set(removed)
        self.bundles = [b for b in self.bundles if b.id not in gone]

    def set_paused(self, paused: bool) -> None:
        self.queue.set("paused", "1" if paused else "0")


def default_sink(window_seconds: float = 600.0) -> UploadSink:
    """The upload queue ($CROWD_HOME/upload) when crowd.transfer is installed."""
    try:
        from crowd.home import crowd_home
        from crowd.transfer.queue import UploadQueue

        return QueueSink(UploadQueue(crowd_home() / "upload"), window_seconds)
    except Exception:  # noqa: BLE001 - no uploader installed: keep segments locally
        log.warning("upload queue unavailable; segments stay in the recordings folder")
        return LocalOnlySink()


class CastController:
    def __init__(self, config: RecorderConfig, settings: CastSettings, *, tray: bool = True,
                 sink: UploadSink | None = None, settings_file: Path | None = None) -> None:
        self.config = config
        self.settings = settings
        self.settings_file = settings_file
        self.sink = sink or default_sink(config.panic_seconds)
        self.sink.set_paused(settings.uploads_paused)
        self.recorder: Recorder | None = None
        self.tray: Any = None
        self._want_tray = tray
        self._quit = threading.Event()
        self._lock = threading.Lock()
        self.held_by_fact = False     # the machine's consent fact stopped or kept us from recording
        # a panic pressed in an editor window (crowd.panic journal) is this recorder's panic too
        self.panic_watch = PanicWatcher(lambda request: self.panic())

    # -- actions (tray menu, signals) ---------------------------------------------------
    def start(self) -> None:
        with self._lock:
            if self.recorder is not None and self.recorder.running:
                return
            fact = read_consent_fact()
            if fact is not None and fact.state != "granted":
                # the machine's consent fact (an editor window paused or declined): nothing
                # is recorded until it is granted again (obey_consent starts it then)
                self.held_by_fact = True
                log.info("not recording: consent on this machine is %s", fact.state)
                self._alert(f"not recording: consent on this machine is {fact.state}")
                return
            self.held_by_fact = False
            self.recorder = Recorder(self.config, on_segment_ready=self._segment_ready,
                                     on_segments_deleted=self.sink.forget, on_alert=self._alert,
                                     on_state=self._on_state)
            self.recorder.start()

    def stop(self) -> None:
        with self._lock:
            if self.recorder is not None:
                self.recorder.stop()
        self.sink.drain()   # the last segment is in the queue before the process may exit

    def panic(self) -> list[Path]:
        with self._lock:
            if self.recorder is None:
                from crowd.capture.hold import purge_recent

                deleted = purge_recent(self.config.output_dir, self.config.panic_seconds)
                self.sink.forget(deleted)   # always: held bundles of the window are copies
                return deleted
            return self.recorder.panic()

    def toggle_uploads(self) -> bool:
        self.settings.uploads_paused = not self.settings.uploads_paused
        self.sink.set_paused(self.settings.uploads_paused)
        try:
            save_settings(self.settings, self.settings_file)
        except OSError:
            log.exception("saving settings")
        return self.settings.uploads_paused

    def quit(self) -> None:
        self.stop()
        self._quit.set()

    def status(self) -> RecorderStatus | None:
        return self.recorder.status() if self.recorder is not None else None

    def status_line(self) -> str:
        st = self.status()
        return f"crowd-cast: {st.detail}" if st else "crowd-cast: stopped"

    # -- plumbing ---------------------------------------------------------------------
    def _segment_ready(self, seg: Segment) -> None:
        self.sink.enqueue(seg.paths())

    def _alert(self, message: str) -> None:
        if self.tray is not None:
            self.tray.notify(message)

    def _on_state(self, st: RecorderStatus) -> None:
        if self.tray is not None:
            self.tray.set_state(st.tray, st.detail)

    def obey_consent(self) -> None:
        """Consent is one fact for every recorder on the machine (crowd.home): paused or
        declined stops recording and deletes the segments written after it took effect
        (a video cannot be cut, so the whole last segment goes); granted again restarts
        what the fact stopped. Looked at every 0.5 s by the status loop."""
        fact = read_consent_fact()
        if fact is None:
            return
        running = self.recorder is not None and self.recorder.running
        if fact.state != "granted" and running:
            self.held_by_fact = True
            log.info("consent on this machine is %s: recording stopped", fact.state)
            self.stop()
            from crowd.capture.hold import purge_recent  # noqa: PLC0415

            deleted = purge_recent(self.config.output_dir, max(0.0, time.time() - fact.since_ms / 1000))
            self.sink.drain()     # the last segment's bundle is queued: then it is shredded
            self.sink.forget_since(fact.since_ms / 1000, deleted)
            self._alert(f"recording stopped: consent on this machine is {fact.state}")
        elif fact.state == "granted" and self.held_by_fact and not running:
            self.start()

    def _status_loop(self) -> None:
        while not self._quit.wait(0.5):
            try:
                self.obey_consent()
                self.panic_watch.check()
            except Exception:  # noqa: BLE001 - looked at again in 0.5 s
                log.exception("obeying the consent fact or a panic")
            st = self.status()
            if st is None:
                continue
            if self.tray is not None:
                self.tray.set_state(st.tray, st.detail)
            try:
                tmp = status_path().with_suffix(".tmp")
                tmp.write_text(json.dumps({**asdict(st), "pid": os.getpid(), "time": time.time(),
                                           "output_dir": str(self.config.output_dir)}))
                os.replace(tmp, status_path())
            except OSError:
                pass

    def _install_signals(self) -> None:
        signal.signal(signal.SIGUSR1, lambda *_: threading.Thread(target=self.panic, daemon=True).start())
        signal.signal(signal.SIGTERM, lambda *_: self.quit())

    def run(self, duration: float | None = None) -> int:
        """Record until Quit/SIGTERM/Ctrl-C (or ``duration`` seconds); returns an exit code."""
        pid_path().write_text(str(os.getpid()))
        if threading.current_thread() is threading.main_thread():
            self._install_signals()
        self.start()
        threading.Thread(target=self._status_loop, name="crowd-status", daemon=True).start()
        if duration is not None:
            threading.Timer(duration, self.quit).start()
        try:
            if self._want_tray:
                try:
                    from crowd.capture.tray import Tray, TrayActions

                    self.tray = Tray(TrayActions(
                        self.start, self.stop, self.panic, self.toggle_uploads, self.quit,
                        self.status_line, lambda: bool(self.recorder and self.recorder.running),
                        lambda: self.settings.uploads_paused))
                except Exception as exc:  # noqa: BLE001 - no tray host: record without an icon
                    log.warning("no tray icon (%s); recording continues", exc)
                    self.tray = None
            if self.tray is not None:
                def watch_quit(_icon: Any) -> None:
                    threading.Thread(target=lambda: (self._quit.wait(), self.tray.stop()), daemon=True).start()
                self.tray.run(setup=watch_quit)
            else:
                while not self._quit.wait(0.5):
                    pass
        except KeyboardInterrupt:
            pass
        finally:
            self.quit()
            try:
                pid_path().unlink()
            except OSError:
                pass
        return 0
