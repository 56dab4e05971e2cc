"""A stand-in CLI agent for tests that need a real agent process writing files (the real ones
need the network): attribution scenarios and the privacy acceptance test both run it."""
from __future__ import annotations

import stat
import sys
from pathlib import Path

AGENT_SCRIPT = r'''#!{python}
"""A stand-in CLI agent (the real ones need the network): a real process named like the
agent that edits files the way agents do (read, think, write whole files), then lingers."""
import json, os, subprocess, sys, time
time.sleep(float(os.environ.get("AGENT_THINK", "0.6")))
plan = json.loads(sys.argv[1])
for step in plan:
    op = step["op"]
    if op == "write":
        with open(step["path"], "w") as fh:
            fh.write(step["text"])
    elif op == "replace":
        text = open(step["path"]).read()
        open(step["path"], "w").write(text.replace(step["old"], step["new"]))
    elif op == "delete":
        os.unlink(step["path"])
    elif op == "run":
        subprocess.run(step["argv"], check=True, capture_output=True)
time.sleep(float(os.environ.get("AGENT_LINGER", "0.5")))
'''


def make_agent(bin_dir: Path, name: str) -> Path:
    """An executable called ``name`` in ``bin_dir`` running AGENT_SCRIPT with this Python."""
    bin_dir.mkdir(parents=True, exist_ok=True)
    path = bin_dir / name
    path.write_text(AGENT_SCRIPT.replace("{python}", sys.executable))
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path
