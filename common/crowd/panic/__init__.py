"""Panic as a transaction across every recorder of the machine (see journal.py, sweep.py)."""
from crowd.panic.journal import PanicRequest, applied, begin, finish, journal_file, mark_applied, pending
from crowd.panic.sweep import SweepResult, sweep
from crowd.panic.watch import PanicWatcher

__all__ = ["PanicRequest", "PanicWatcher", "SweepResult", "applied", "begin", "finish", "journal_file",
           "mark_applied", "pending", "sweep"]
