"""Shared helpers for the attribution tests: await conditions instead of sleeping."""
from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path

import pytest


def wait_for(predicate: Callable[[], bool], timeout: float = 30.0, what: str = "condition") -> None:
    """Poll ``predicate`` until true; fail with ``what`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.02)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def disk_tree(root: Path, skip_git: bool = True) -> dict[str, bytes]:
    out = {}
    for dirpath, dirnames, filenames in os.walk(root):
        if skip_git and ".git" in dirnames:
            dirnames.remove(".git")
        for f in filenames:
            full = os.path.join(dirpath, f)
            if os.path.islink(full):
                continue
            out[os.path.relpath(full, root).replace(os.sep, "/")] = Path(full).read_bytes()
    return out


@pytest.fixture
def ws(tmp_path: Path) -> Path:
    root = tmp_path / "ws"
    root.mkdir()
    return root


def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:  # noqa: ARG001
    from tests.attribution import harness

    if harness.ACCURACY:
        terminalreporter.write_line(harness.report())
        harness.dump_report(os.environ.get("CROWD_ATTRIBUTION_REPORT"))
