"""The one ``crowd`` entry point exposes every part's subcommands."""
from __future__ import annotations

import importlib
import subprocess
import sys

import pytest

from crowd import cli


@pytest.mark.parametrize("name", cli.PROVIDERS)
def test_every_provider_imports_and_registers(name: str) -> None:
    provider = importlib.import_module(name)
    assert callable(provider.register)


def test_help_lists_the_subcommands_of_every_part() -> None:
    out = subprocess.run([sys.executable, "-m", "crowd.cli", "--help"], capture_output=True,
                         text=True, check=True)
    assert out.stderr == ""  # no provider failed to load
    for command in ("sidecar", "demo", "snapshot", "export", "import", "replay", "dataset",
                    "term", "cast", "idm", "upload", "ingest", "install-extension"):
        assert command in out.stdout, command


def test_no_command_prints_help_and_fails() -> None:
    proc = subprocess.run([sys.executable, "-m", "crowd.cli"], capture_output=True, text=True)
    assert proc.returncode == 2
    assert "usage: crowd" in proc.stdout
