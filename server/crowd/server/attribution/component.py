"""The attribution component: watcher + git monitor + agent scanner + snapshots, per session.

Registered in server/components.py; the session creates it when recording starts.
Settings (initializationOptions.settings): ``agents`` (list of CLI agent names, replaces
the default list), ``attributionGraceSeconds``, ``snapshots`` (false turns them off).

What it needs from the rest of the sidecar it asks the session through typed attributes:
the workspace cache, the bus, the editor's documents, and the terminals' foreground
programs (``session.terminals``, the session's terminal service). It never looks through
the other components.
"""
from __future__ import annotations

import logging
import os
from collections.abc import Callable
from typing import TYPE_CHECKING

from crowd.server.attribution.adapters import CacheBaseline, CacheRoots
from crowd.server.attribution.agents import DEFAULT_AGENTS, AgentScanner
from crowd.server.attribution.engine import GRACE_S, Attributor
from crowd.server.attribution.git import GitMonitor
from crowd.server.components import Component
from crowd.server.watch.content import read_content
from crowd.server.watch.watcher import WorkspaceWatcher
from crowd.snapshots import SnapshotStore

if TYPE_CHECKING:
    from crowd.server.components import SidecarSession

log = logging.getLogger(__name__)


class AttributionComponent(Component):
    def __init__(self) -> None:
        self.session: SidecarSession | None = None
        self.engine: Attributor | None = None
        self.watcher: WorkspaceWatcher | None = None
        self.agents: AgentScanner | None = None
        self.git: GitMonitor | None = None
        self.baseline: CacheBaseline | None = None
        self.store: SnapshotStore | None = None
        self._unsubscribe: Callable[[], None] | None = None

    def start(self, session: SidecarSession) -> None:
        self.session = session
        settings = session.settings
        ws = session.workspace
        roots = CacheRoots(ws)
        self.baseline = CacheBaseline(ws)
        names = tuple(settings.get("agents") or DEFAULT_AGENTS)
        folders = [str(p) for p in roots.paths()]
        # the sidecar does not know the terminals' shell pids: processes are scoped by cwd
        self.agents = AgentScanner(names, folders=lambda: folders,
                                   foreground=session.terminals.foreground_programs)
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
        assert self.session is not None and self.watcher is not None and self.baseline is not None
        ws = self.session.workspace
        ws.start_scan()
        ws.wait_scanned(timeout=600)
        for rel, abs_path in self.watcher.files():
            if rel in ws and not os.path.islink(abs_path):
                continue
            content = read_content(abs_path)
            if content is not None:
                self.baseline.set(rel, content)
        for git_dir in sorted(self.watcher.nested_git):
            if self.git is not None and os.path.isdir(git_dir):
                self.git.add_repo(os.path.realpath(git_dir), os.path.realpath(os.path.dirname(git_dir)))
        log.info("attribution: watching %d files in %d folder(s), %d git repositories",
                 len(self.baseline), len(ws.folders.folders), self.git.repo_count() if self.git else 0)

    def wait_ready(self, timeout: float = 60.0) -> bool:
        """True once the watcher has finished preparing (tests, demo)."""
        return self.watcher is not None and self.watcher.ready.wait(timeout)

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
