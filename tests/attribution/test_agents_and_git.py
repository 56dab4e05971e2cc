"""Unit tests on real processes and real git: agent recognition and the git monitor."""
from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path

from crowd.server.attribution.agents import AgentScanner, agent_name
from crowd.server.attribution.git import GitMonitor
from crowd.server.attribution.git_state import read_head
from tests.helpers.waiting import wait_for
from tests.attribution.harness import git

NAMES = ("claude", "codex", "aider")


def test_agent_names_from_argv() -> None:
    assert agent_name(["/usr/local/bin/claude", "-p", "x"], "claude", NAMES) == "claude"
    assert agent_name(["node", "/opt/lib/node_modules/@openai/codex/bin/codex.js"], "node", NAMES) == "codex"
    assert agent_name(["python3", "-m", "aider"], "python3", NAMES) == "aider"   # module form
    assert agent_name(["/usr/bin/python3", "/home/u/.local/bin/aider", "--yes"], "python3", NAMES) == "aider"
    assert agent_name(["vim", "claude.md"], "vim", NAMES) is None


def test_scanner_follows_a_real_process(tmp_path: Path) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake = bin_dir / "claude"
    shutil.copy("/bin/sleep", fake)
    ws = tmp_path / "ws"
    ws.mkdir()
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    scanner = AgentScanner(NAMES, folders=lambda: [str(ws)])
    proc_out = subprocess.Popen([str(fake), "30"], cwd=outside)       # not in the workspace: ignored
    proc = subprocess.Popen([str(fake), "30"], cwd=ws)
    try:
        wait_for(lambda: (scanner.sample(), scanner.running())[1] == ["claude"], what="claude seen")
        assert scanner.agent_at(time.monotonic_ns()) == "claude"
        assert {s.pid for s in scanner.seen.values()} == {proc.pid}
    finally:
        proc.kill()
        proc.wait()
        proc_out.kill()
        proc_out.wait()
    scanner.sample()
    assert scanner.running() == []
    later = time.monotonic_ns() + 10**9
    assert scanner.agent_at(later) is None


def test_scanner_scopes_to_terminal_shells_and_foreground(tmp_path: Path) -> None:
    fake = tmp_path / "codex"
    shutil.copy("/bin/sleep", fake)
    shell = subprocess.Popen(["sh", "-c", f"{fake} 30; true"])
    try:
        scanner = AgentScanner(NAMES, shell_pids=lambda: [shell.pid])
        wait_for(lambda: (scanner.sample(), scanner.running())[1] == ["codex"], what="codex under the shell")
        other = AgentScanner(NAMES, shell_pids=lambda: [os.getpid() + 10**6])
        other.sample()
        assert other.running() == []
        by_terminal = AgentScanner(NAMES, shell_pids=lambda: [], foreground=lambda: {"t1": "aider", "t2": "bash"})
        by_terminal.sample()
        assert by_terminal.running() == ["aider"]
    finally:
        subprocess.run(["pkill", "-P", str(shell.pid)], check=False)
        shell.kill()
        shell.wait()


def test_git_monitor_reads_head_and_groups_lock_cycles(tmp_path: Path) -> None:
    repo = tmp_path / "r"
    repo.mkdir()
    (repo / "a.txt").write_text("a\n")
    git(repo, "init", "-q")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "a")
    head = read_head(str(repo / ".git"))
    assert head.ref == "refs/heads/main" and head.sha and len(head.sha) == 40
    git(repo, "pack-refs", "--all")
    assert read_head(str(repo / ".git")) == head   # from packed-refs
    mon = GitMonitor()
    mon.discover([repo])
    gd = str(repo / ".git")
    mon.observe("created", f"{gd}/index.lock", None)
    op = mon.current_op(str(repo / "a.txt"))
    assert op is not None and not mon.op_finished(op)
    git(repo, "checkout", "-qb", "other")
    mon.observe("moved", f"{gd}/index.lock", f"{gd}/index")
    assert mon.current_op(str(repo / "a.txt")) is None       # lock released: later writes are not git
    wait_for(lambda: mon.op_finished(op), what="operation closed after the quiet period")
    assert op.source == "git_checkout" and op.label == "checkout"
    assert mon.head_tree(gd) == {"a.txt": git(repo, "rev-parse", "HEAD:a.txt").strip()}
