"""``crowd demo`` steps for attribution: an agent edits files on a branch, then a git checkout.

The agent is a stand-in (the real CLI agents need the network): a real process named
``claude`` started in the workspace that rewrites a file and adds one, as agents do. The
sidecar sees a process of that name alive while the files change and records
``source: agent, agent: claude`` after a ``snapshot`` of the workspace as it was before.
"""
from __future__ import annotations

import os
import stat
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

AGENT = '''#!{python}
import time
time.sleep(0.6)
text = open("src/util.py").read()
open("src/util.py", "w").write(text + "\\n\\ndef lerp(a, b, t):\\n    return a + (b - a) * t\\n")
open("src/test_util.py", "w").write("from util import clamp\\n\\n\\ndef test_clamp():\\n    assert clamp(5, 0, 3) == 3\\n")
time.sleep(0.5)
'''

_GIT_ENV = {"GIT_AUTHOR_NAME": "crowd demo", "GIT_AUTHOR_EMAIL": "demo@example.invalid",
            "GIT_COMMITTER_NAME": "crowd demo", "GIT_COMMITTER_EMAIL": "demo@example.invalid"}


def _git(ws: Path, *args: str) -> None:
    subprocess.run(["git", "-c", "init.defaultBranch=main", *args], cwd=ws, check=True, capture_output=True,
                   env={**os.environ, **_GIT_ENV}, timeout=120)


def _wait_recorded(ctx: Any, predicate, timeout: float = 30.0) -> None:  # noqa: ANN001
    from crowd.format import read_recording  # noqa: PLC0415

    recording = ctx.client.status()["recording"]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ctx.client.request("crowd/flush")
        if any(predicate(e) for e in read_recording(recording).events):
            return
        time.sleep(0.1)


def step_agent_edit(ctx: Any) -> None:
    """On a new branch, a CLI agent (stand-in named ``claude``) edits src/util.py and adds a test."""
    ws = ctx.workspace
    _git(ws, "init", "-q")
    _git(ws, "add", "-A")
    _git(ws, "commit", "-qm", "demo: base")
    _git(ws, "checkout", "-qb", "agent-work")
    bin_dir = Path(tempfile.mkdtemp(prefix="crowd-demo-agent-"))
    agent = bin_dir / "claude"
    agent.write_text(AGENT.replace("{python}", sys.executable))
    agent.chmod(agent.stat().st_mode | stat.S_IXUSR)
    ctx.send({"kind": "terminal_exec_start", "terminal": "demo-1", "command": "claude -p 'add lerp and a test'"})
    ctx.flush()
    subprocess.run([str(agent)], cwd=ws, check=True, timeout=60)
    _wait_recorded(ctx, lambda e: e.get("kind") == "file_change" and e.get("file") == "src/test_util.py")
    ctx.send({"kind": "terminal_exec_end", "terminal": "demo-1", "exitCode": 0})
    ctx.flush()


def step_git_checkout(ctx: Any) -> None:
    """Commit the agent's work and check main out again: git puts the files back."""
    ws = ctx.workspace
    _git(ws, "add", "-A")
    _git(ws, "commit", "-qm", "demo: agent work")
    _git(ws, "checkout", "-q", "main")
    _wait_recorded(ctx, lambda e: e.get("kind") == "file_change" and e.get("source") == "git_checkout")


DEMO_STEPS = [
    ("a CLI agent edits files on a branch (snapshot first)", step_agent_edit),
    ("commit and git checkout main", step_git_checkout),
]
