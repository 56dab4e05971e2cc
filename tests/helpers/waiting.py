"""Await a condition instead of sleeping: one ``wait_for`` for every test (seven copies of it
with different poll intervals, return values and exceptions used to live in the folders)."""
from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")

POLL_S = 0.02   # short next to any deadline here; long enough that polling costs no CPU


def wait_for(predicate: Callable[[], T], timeout: float = 30.0, what: str = "condition") -> T:
    """Poll ``predicate`` until it returns something truthy and return that; fail with ``what``
    after ``timeout`` seconds. For state that another process writes (files, recordings,
    status documents) and that therefore has no event in this process to wait on."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(POLL_S)   # polling a condition with a deadline, not a sleep-sync
