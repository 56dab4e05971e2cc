"""Watching workspace folders: every file change on disk, with nested .gitignore handling.

The watcher turns watchdog's raw events (observer.py, the only module that imports
watchdog) into one coalesced change per path (batch.py), compared against the last known
content (content.py), so what it reports always brings the known content back in line with
the disk (write-then-rename saves, vim saves, moves, directory deletes, bursts).
"""
from crowd.server.watch.batch import FsChange
from crowd.server.watch.content import MemoryBaseline
from crowd.server.watch.ignore import IgnoreRules
from crowd.server.watch.roots import Roots
from crowd.server.watch.watcher import WorkspaceWatcher

__all__ = ["IgnoreRules", "Roots", "FsChange", "WorkspaceWatcher", "MemoryBaseline"]
