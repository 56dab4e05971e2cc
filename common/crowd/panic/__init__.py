"""Panic as a transaction across every recorder of the machine: the journal and the watcher
here (light: ``crowd term`` imports them), the sweep of folders in ``crowd.panic.sweep``."""
from crowd.panic.journal import (FORGET_SCREEN, PanicRequest, applied, begin, finish, journal_file, mark_applied,
                                 pending)
from crowd.panic.watch import PanicWatcher

__all__ = ["FORGET_SCREEN", "PanicRequest", "PanicWatcher", "applied", "begin", "finish", "journal_file",
           "mark_applied", "pending"]
