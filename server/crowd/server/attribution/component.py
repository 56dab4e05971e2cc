"""The attribution component: watcher + git monitor + agent scanner + snapshots, per session.

Registered in server/components.py; the session creates it when recording starts.
Settings (initializationOptions.settings): ``agents`` (list of CLI agent names, replaces
the default list), ``attributionGraceSeconds``, ``snapshots`` (false turns them off).
"""
from __future__ import annotations

import logging
import os
from typing import Any

from crowd.server.attribution.adapters import CacheBaseline, CacheRoots
from crowd.server.attribution.agents import DEFAULT_AGENTS, AgentScanner
from crowd.server.attribution.engine import GRACE_S, Attributor
from crowd.server.attribution.git import GitMonitor
from crowd.snapshots import SnapshotStore
from crowd.server.watch.watcher import WorkspaceWatcher, read_content

log = logging.getLogger(__name__)


def _shell_pids_hook(session: Any):
    """The terminal component's shell pids, when it offers them (else None: cwd scope)."""
    def pids() -> list[int] | None:
        found: list[int] | None = None
        for component in getattr(session, "components", []):
            get = getattr(component, "shell_pids", None)
            if callable(get):
                try:
                    found = [*(found or []), *(int(p) for p in get())]
                except Exception:  # noqa: BLE001
                    continue
        return found
    return pids


def _foreground_hook(session: Any):
    """{terminal: foreground program} from the terminal component (``foreground_programs()``,
    or its TerminalHub's ``foreground(id)``), when it is running."""
    def programs() -> dict[str, str | None]:
        found: dict[str, str | None] = {}
        for component in getattr(session, "components", []):
            get = getattr(component, "foreground_programs", None)
            if callable(get):
                found.update(get())
                continue
            hub = getattr(component, "hub", None)
            if hub is not None and callable(getattr(hub, "foreground", None)):
                for term_id in list(getattr(hub, "terminals", {})):
                    found[str(term_id)] = hub.foreground(term_id)
        return found
    return programs


class AttributionComponent:
    def __init__(self) -> None:
        self.session: Any = None
        self.engine: Attributor | None = None
        self.watcher: WorkspaceWatcher | None = None
        self.agents: AgentScanner | None = None
        self.git: GitMonitor | None = None
        self.baseline: CacheBaseline | None = None
        self.store: SnapshotStore | None = None
        self._unsubscribe: Any = None

    def start(self, session: Any) -> None:
        self.session = session
        settings = getattr(session, "settings", {}) or {}
        ws = session.workspace
        roots = CacheRoots(ws)
        self.baseline = CacheBaseline(ws)
        names = tuple(settings.get("agents") or DEFAULT_AGENTS)
        folders = [str(p) for p in roots.paths()]
        self.agents = AgentScanner(names, folders=lambda: folders,
                                   shell_pids=_shell_pids_hook(session),
                                   foreground=_foreground_hook(session))
        self.agents.start()
        if settings.get("snapshots", True) and session.directory is not None:
            self.store = SnapshotStore(session.directory / "snapshots")
        self.git = GitMonitor()
        self.git.discover(roots.paths())
        self.engine = Attributor(session, self.baseline, snapshots=self.store, agents=self.agents, git=self.git,
                                 agent_names=names,
                                 grace_s=float(settings.get("attributionGraceSeconds", GRACE_S)))
        session.edit_classifiers.append(self.engine.classify_edit)
        self._unsubscribe = session.bus.subscribe("*", self.engine.on_event)
        self.watcher = WorkspaceWatcher(roots, self.baseline, self.engine.on_changes, git=self.git)
        self.watcher.start(scan=False, prepare=self._prepare)

    def _prepare(self) -> None:
        """Wait for the core's cache scan, then fingerprint what it does not hold as text."""
        ws = self.session.workspace
        if hasattr(ws, "start_scan"):
            ws.start_scan()
            ws.wait_scanned(timeout=600)
        assert self.watcher is not None and self.baseline is not None
        for rel, abs_path in self.watcher._walk_all():  # noqa: SLF001 - same package family
            if rel in ws and not os.path.islink(abs_path):
                continue
            content = read_content(abs_path)
            if content is not None:
                self.baseline.set(rel, content)
        log.info("attribution: watching %d files in %d folder(s), %d git repositories",
                 len(self.baseline), len(ws.folders.folders), len(self.git._repos) if self.git else 0)  # noqa: SLF001

    def wait_ready(self, timeout: float = 60.0) -> bool:
        """True once the watcher has finished preparing (tests, demo)."""
        import time  # noqa: PLC0415

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.watcher is not None and self.watcher.ready.is_set():
                return True
            time.sleep(0.02)
        return False

    def stop(self) -> None:
        if self.watcher is not None:
            self.watcher.stop()
        if self.engine is not None:
            self.engine.stop()
        if self.agents is not None:
            self.agents.stop()
        if self.store is not None:
            self.store.close()
        if self._unsubscribe is not None:
            self._unsubscribe()

    def panic(self, cutoff_t: int) -> None:
        if self.engine is not None:
            self.engine.panic(cutoff_t)
