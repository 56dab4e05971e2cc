"""Watching workspace folders: every file change on disk, with nested .gitignore handling.

The watcher turns watchdog's raw events into one coalesced change per path, compared
against the last known content, so what it reports always brings the known content back in
line with the disk (write-then-rename saves, vim saves, moves, directory deletes, bursts).
"""
from crowd.server.watch.ignore import IgnoreRules
from crowd.server.watch.roots import Roots
from crowd.server.watch.watcher import FsChange, WorkspaceWatcher, MemoryBaseline

__all__ = ["IgnoreRules", "Roots", "FsChange", "WorkspaceWatcher", "MemoryBaseline"]
