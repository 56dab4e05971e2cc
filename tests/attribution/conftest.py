"""Attribution fixtures: an empty workspace, and the per-family accuracy table printed after the run."""
from __future__ import annotations

import os
from pathlib import Path

import pytest


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
