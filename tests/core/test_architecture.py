"""The architecture contract (.importlinter) holds, covers every package, and bites.

Layers only mean something if a lower one importing a higher one fails the build, so the
suite runs import-linter on the real tree. Two more checks keep the contract honest: every
top-level ``crowd`` package has a layer (a new package cannot sit outside the rules), and a
deliberately bad tree (an upward import, an import cycle) is reported as broken, so a
contract that silently analyses nothing would fail here too.
"""
from __future__ import annotations

import configparser
import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CONFIG = ROOT / ".importlinter"


def lint_imports(config: Path, pythonpath: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    if pythonpath is not None:
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(pythonpath), env.get("PYTHONPATH")]))
    cmd = [sys.executable, "-c", "import sys; from importlinter.cli import lint_imports_command; "
           "sys.exit(lint_imports_command())", "--config", str(config), "--no-cache"]
    return subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)


def layer_names(config: Path = CONFIG) -> list[str]:
    parser = configparser.ConfigParser()
    parser.read(config)
    rows = parser["importlinter:contract:layers"]["layers"].split("\n")
    return [name.strip().strip("()") for row in rows if row.strip() for name in row.split("|")]


def top_level_packages() -> set[str]:
    """``crowd.<name>`` for every package and module in the folders the wheel is built from."""
    wheel = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["hatch"]["build"]["targets"]["wheel"]
    names = set()
    for folder in wheel["packages"]:
        for child in (ROOT / folder).iterdir():
            if child.is_dir() and child.name != "__pycache__" and any(child.rglob("*.py")):
                names.add(f"crowd.{child.name}")
            elif child.suffix == ".py":
                names.add(f"crowd.{child.stem}")
    return names


def test_the_tree_keeps_the_contract():
    result = lint_imports(CONFIG)
    assert result.returncode == 0, result.stdout + result.stderr
    analysed = int(re.search(r"Analyzed (\d+) files", result.stdout).group(1))
    assert analysed > 100, f"import-linter saw only {analysed} files: the crowd namespace was not found"


def test_every_top_level_package_has_a_layer():
    layers = layer_names()
    assert len(layers) == len(set(layers)), f"a package is in two layers: {layers}"
    packages = top_level_packages()
    assert packages - set(layers) == set(), "add these to a layer in .importlinter"
    assert set(layers) - packages == set(), "these layers name no package in the tree"


def test_an_upward_import_and_a_cycle_are_caught(tmp_path):
    """A throwaway package at the bottom layer that imports the sidecar and holds a cycle."""
    probe = tmp_path / "crowd" / "probe"           # joins the PEP 420 namespace via PYTHONPATH
    probe.mkdir(parents=True)
    (probe / "__init__.py").write_text("")
    (probe / "upward.py").write_text("import crowd.server.session\n")
    (probe / "ping.py").write_text("import crowd.probe.pong\n")
    (probe / "pong.py").write_text("import crowd.probe.ping\n")
    text = CONFIG.read_text()
    bottom = next(row for row in text.splitlines() if "crowd.text" in row and "|" in row)
    config = tmp_path / "importlinter.ini"
    config.write_text(text.replace(bottom, bottom + " | crowd.probe"))

    result = lint_imports(config, pythonpath=tmp_path)
    out = result.stdout + result.stderr
    assert result.returncode != 0, out
    assert "crowd.probe is not allowed to import crowd.server" in out
    assert "No cycles are allowed in crowd.probe" in out
