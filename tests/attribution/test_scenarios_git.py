"""Scenarios: real git operations in a recorded workspace (sources read from repo state)."""
from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.attribution.harness import Sidecar, expect_edit_sources, expect_sources, git

FAMILY = "git"


def make_repo(root: Path, files: int = 6) -> Path:
    (root / "src").mkdir(parents=True)
    for i in range(files):
        (root / "src" / f"f{i}.txt").write_text(f"line {i}\n")
    git(root, "init", "-q")
    git(root, "add", "-A")
    git(root, "commit", "-qm", "base")
    return root


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = make_repo(tmp_path / "ws")
    git(root, "checkout", "-qb", "feature")
    (root / "src" / "f0.txt").write_text("feature 0\n")
    (root / "src" / "feat.txt").write_text("only on feature\n")
    git(root, "add", "-A")
    git(root, "commit", "-qm", "feature work")
    git(root, "checkout", "-q", "main")
    return root


def test_checkout_branch(repo: Path, tmp_path: Path) -> None:
    with Sidecar(tmp_path, [repo]) as sc:
        git(repo, "checkout", "-q", "feature")
        changes = sc.file_changes()
        expect_sources(FAMILY, changes, {"src/f0.txt": ("git_checkout", None), "src/feat.txt": ("git_checkout", None)})
        assert {c["git_op"] for c in changes} == {"checkout"}


def test_switch_back_and_forth(repo: Path, tmp_path: Path) -> None:
    with Sidecar(tmp_path, [repo]) as sc:
        git(repo, "switch", "-q", "feature")
        sc.sync()   # a human switches back later; within ~50 ms the watcher would see no net change
        git(repo, "switch", "-q", "main")
        changes = sc.file_changes()
        expect_sources(FAMILY, changes, {"src/f0.txt": ("git_checkout", None), "src/feat.txt": ("git_checkout", None)})
        assert [c["change"] for c in changes if c["file"] == "src/feat.txt"] == ["create", "delete"]


def test_stash_and_pop(repo: Path, tmp_path: Path) -> None:
    (repo / "src" / "f1.txt").write_text("work in progress\n")
    with Sidecar(tmp_path, [repo]) as sc:
        git(repo, "stash", "-q")
        changes = sc.file_changes()
        expect_sources(FAMILY, changes, {"src/f1.txt": ("git", None)})
        git(repo, "stash", "pop", "-q")
        changes = sc.file_changes()
        expect_sources(FAMILY, changes, {"src/f1.txt": ("git", None)})
        assert [c["change"] for c in changes] == ["change", "change"]
        assert all(c.get("git_op") == "stash" for c in changes), [c.get("git_op") for c in changes]


def colleague_pushed(repo: Path, tmp_path: Path) -> None:
    """``repo`` tracks a bare local remote on which a colleague has pushed a commit that
    changes src/f2.txt and adds src/theirs.txt (what a pull then brings)."""
    remote = tmp_path / "remote.git"
    git(tmp_path, "clone", "-q", "--bare", str(repo), str(remote))
    git(repo, "remote", "add", "origin", str(remote))
    git(repo, "fetch", "-q", "origin")
    git(repo, "branch", "-q", "--set-upstream-to=origin/main", "main")
    other = tmp_path / "other"
    git(tmp_path, "clone", "-q", str(remote), str(other))
    (other / "src" / "f2.txt").write_text("from a colleague\n")
    (other / "src" / "theirs.txt").write_text("new upstream file\n")
    git(other, "add", "-A")
    git(other, "commit", "-qm", "upstream")
    git(other, "push", "-q", "origin", "main")


def test_pull_from_a_local_remote(repo: Path, tmp_path: Path) -> None:
    colleague_pushed(repo, tmp_path)
    with Sidecar(tmp_path, [repo]) as sc:
        git(repo, "pull", "-q", "--ff-only")
        changes = sc.file_changes()
        expect_sources(FAMILY, changes, {"src/f2.txt": ("git_checkout", None), "src/theirs.txt": ("git_checkout", None)})


def test_merge(repo: Path, tmp_path: Path) -> None:
    (repo / "src" / "f5.txt").write_text("main side\n")
    git(repo, "commit", "-qam", "main work")
    with Sidecar(tmp_path, [repo]) as sc:
        git(repo, "merge", "-q", "--no-edit", "feature")
        expect_sources(FAMILY, sc.file_changes(), {"src/f0.txt": ("git_checkout", None),
                                                   "src/feat.txt": ("git_checkout", None)})


def test_merge_with_conflict_then_user_resolves(repo: Path, tmp_path: Path) -> None:
    (repo / "src" / "f0.txt").write_text("main 0\n")
    git(repo, "commit", "-qam", "conflicting")
    with Sidecar(tmp_path, [repo]) as sc:
        subprocess.run(["git", "merge", "-q", "--no-edit", "feature"], cwd=repo, capture_output=True)
        changes = sc.file_changes()
        expect_sources(FAMILY, changes, {"src/f0.txt": ("git", None), "src/feat.txt": ("git", None)})
        assert "<<<<<<<" in (repo / "src" / "f0.txt").read_text()
        sc.open("src/f0.txt")
        text = (repo / "src" / "f0.txt").read_text()
        sc.edit("src/f0.txt", 0, len(text), "resolved\n")
        sc.save("src/f0.txt", "resolved\n")
        events = sc.sync()
        expect_sources(FAMILY, sc.file_changes(events)[len(changes):], {"src/f0.txt": None})
        expect_edit_sources(FAMILY, sc.edits("src/f0.txt", events), ["user"])


def test_rebase(repo: Path, tmp_path: Path) -> None:
    (repo / "src" / "f3.txt").write_text("main moved on\n")
    git(repo, "commit", "-qam", "main 2")
    git(repo, "checkout", "-q", "feature")
    with Sidecar(tmp_path, [repo]) as sc:
        git(repo, "rebase", "-q", "main")
        changes = sc.file_changes()
        expect_sources(FAMILY, changes, {"src/f3.txt": ("git_checkout", None)})


def test_reset_hard_same_commit_discards_work(repo: Path, tmp_path: Path) -> None:
    (repo / "src" / "f1.txt").write_text("scratch\n")
    (repo / "src" / "f2.txt").write_text("scratch\n")
    with Sidecar(tmp_path, [repo]) as sc:
        git(repo, "reset", "-q", "--hard")
        changes = sc.file_changes()
        expect_sources(FAMILY, changes, {"src/f1.txt": ("git", None), "src/f2.txt": ("git", None)})
        assert {c["git_op"] for c in changes} == {"reset"}


def test_reset_hard_to_another_commit(repo: Path, tmp_path: Path) -> None:
    git(repo, "checkout", "-q", "feature")
    with Sidecar(tmp_path, [repo]) as sc:
        git(repo, "reset", "-q", "--hard", "HEAD~1")
        expect_sources(FAMILY, sc.file_changes(), {"src/f0.txt": ("git_checkout", None),
                                                   "src/feat.txt": ("git_checkout", None)})


def test_restore_file(repo: Path, tmp_path: Path) -> None:
    """No ref moves: crowd-code 2.0's time window called this an agent."""
    (repo / "src" / "f4.txt").write_text("oops\n")
    with Sidecar(tmp_path, [repo]) as sc:
        git(repo, "restore", "src/f4.txt")
        changes = sc.file_changes()
        expect_sources(FAMILY, changes, {"src/f4.txt": ("git", None)})


def test_checkout_dash_dash_file(repo: Path, tmp_path: Path) -> None:
    (repo / "src" / "f3.txt").write_text("oops\n")
    with Sidecar(tmp_path, [repo]) as sc:
        git(repo, "checkout", "--", "src/f3.txt")
        expect_sources(FAMILY, sc.file_changes(), {"src/f3.txt": ("git", None)})


def test_restore_of_an_open_document_and_its_reload(repo: Path, tmp_path: Path) -> None:
    (repo / "src" / "f4.txt").write_text("dirty on disk\n")
    with Sidecar(tmp_path, [repo]) as sc:
        sc.open("src/f4.txt")
        sc.send({"kind": "user_input", "what": "type"})
        git(repo, "restore", "src/f4.txt")
        expect_sources(FAMILY, sc.file_changes(), {"src/f4.txt": ("git", None)})
        sc.send({"kind": "document_change", "uri": sc.uri("src/f4.txt"), "version": 2,
                 "changes": [{"offset": 0, "length": len("dirty on disk\n"), "text": "line 4\n"}],
                 "reason": None, "visible": True, "active": True})
        events = sc.sync()
        expect_edit_sources(FAMILY, sc.edits("src/f4.txt", events), ["git"])


def test_write_right_after_git_is_not_git(repo: Path, tmp_path: Path) -> None:
    """No time window: a tool writing just after a checkout is not git."""
    with Sidecar(tmp_path, [repo]) as sc:
        code = ("import subprocess; subprocess.run(['git','checkout','-q','feature'], check=True);"
                "open('src/f1.txt','w').write('tool ran after git\\n')")
        subprocess.run([sys.executable, "-c", code], cwd=repo, check=True)
        expect_sources(FAMILY, sc.file_changes(), {"src/f0.txt": ("git_checkout", None),
                                                   "src/feat.txt": ("git_checkout", None),
                                                   "src/f1.txt": ("external", None)})


def test_stale_index_lock_does_not_make_everything_git(repo: Path, tmp_path: Path) -> None:
    with Sidecar(tmp_path, [repo]) as sc:
        (repo / ".git" / "index.lock").write_text("")   # a crashed git left its lock behind
        subprocess.run([sys.executable, "-c", "open('src/f2.txt','w').write('edited\\n')"], cwd=repo, check=True)
        changes = sc.file_changes()
        expect_sources(FAMILY, changes, {"src/f2.txt": ("external", None)})
        (repo / ".git" / "index.lock").unlink()


def test_checkout_touching_5000_files(tmp_path: Path) -> None:
    root = tmp_path / "big"
    root.mkdir()
    script = ("import os\nfor d in range(50):\n    os.makedirs(f'mod{d}', exist_ok=True)\n"
              "    for i in range(100):\n        open(f'mod{d}/f{i}.py','w').write(f'v = {d * 100 + i}\\n' * 3)\n")
    subprocess.run([sys.executable, "-c", script], cwd=root, check=True)
    git(root, "init", "-q")
    git(root, "add", "-A")
    git(root, "commit", "-qm", "base")
    git(root, "checkout", "-qb", "wide")
    subprocess.run([sys.executable, "-c", script.replace("v = ", "value = ")], cwd=root, check=True)
    git(root, "commit", "-qam", "rename everywhere")
    git(root, "checkout", "-q", "main")
    with Sidecar(tmp_path, [root]) as sc:
        started = time.monotonic()
        git(root, "checkout", "-q", "wide")
        changes = sc.file_changes(sc.sync(timeout=300))
        elapsed = time.monotonic() - started
        expect_sources(FAMILY, changes, {f"mod{d}/f{i}.py": ("git_checkout", None)
                                         for d in range(50) for i in range(100)})
        print(f"5,000-file checkout fully recorded in {elapsed:.1f} s")


def test_checkout_while_the_sidecar_is_frozen_loses_events_and_is_reconciled(tmp_path: Path) -> None:
    """SIGSTOP the sidecar during a 3,000-file checkout: the kernel's inotify queue (16,384
    events) overflows for real; the rescan still finds git's writes from HEAD's tree."""
    import os
    import signal

    root = tmp_path / "frozen"
    root.mkdir()
    script = ("import os\nfor d in range(30):\n    os.makedirs(f'm{d}', exist_ok=True)\n"
              "    for i in range(100):\n        open(f'm{d}/f{i}.txt','w').write(f'a {d} {i}\\n')\n")
    subprocess.run([sys.executable, "-c", script], cwd=root, check=True)
    git(root, "init", "-q")
    git(root, "add", "-A")
    git(root, "commit", "-qm", "base")
    git(root, "checkout", "-qb", "other")
    subprocess.run([sys.executable, "-c", script.replace("'a ", "'b ")], cwd=root, check=True)
    git(root, "commit", "-qam", "other")
    git(root, "checkout", "-q", "main")
    limit = int(Path("/proc/sys/fs/inotify/max_queued_events").read_text())
    if limit > 30_000:
        pytest.skip(f"inotify queue limit {limit} too large to overflow with this checkout")
    with Sidecar(tmp_path, [root]) as sc:
        pid = sc.client.proc.pid
        os.kill(pid, signal.SIGSTOP)
        try:
            git(root, "checkout", "-q", "other")
            subprocess.run([sys.executable, "-c", "import os\nfor i in range(3000):\n"
                            "    open('.churn','w').write(str(i)); os.unlink('.churn')"], cwd=root, check=True)
        finally:
            os.kill(pid, signal.SIGCONT)
        changes = sc.file_changes(sc.sync(timeout=300))
        assert any("overflow" in line for line in sc.client.log), "the queue did not overflow"
        expect_sources(FAMILY, changes, {f"m{d}/f{i}.txt": ("git_checkout", None) for d in range(30) for i in range(100)})


def test_subproject_opened_alone_in_a_bigger_repository(repo: Path, tmp_path: Path) -> None:
    """The workspace folder is src/ of the repository: its .git is outside what is watched."""
    with Sidecar(tmp_path, [repo / "src"]) as sc:
        git(repo, "checkout", "-q", "feature")
        expect_sources(FAMILY, sc.file_changes(), {"f0.txt": ("git_checkout", None), "feat.txt": ("git_checkout", None)})


def test_linked_worktree(repo: Path, tmp_path: Path) -> None:
    """`git worktree`: the work tree's .git is a file; its index.lock lives in the main repo."""
    wt = tmp_path / "wt"
    git(repo, "worktree", "add", "-q", str(wt), "feature")
    (wt / "src" / "f2.txt").write_text("scratch\n")
    with Sidecar(tmp_path, [wt]) as sc:
        git(wt, "checkout", "--", "src/f2.txt")
        sc.sync()   # two commands within ~0.3 s would be grouped as one
        git(wt, "checkout", "-q", "--detach", "main")
        changes = sc.file_changes()
        expect_sources(FAMILY, [c for c in changes if c["file"] == "src/f2.txt"], {"src/f2.txt": ("git", None)})
        expect_sources(FAMILY, [c for c in changes if c["file"] != "src/f2.txt"],
                       {"src/f0.txt": ("git_checkout", None), "src/feat.txt": ("git_checkout", None)})


def test_restore_then_checkout_moments_later(repo: Path, tmp_path: Path) -> None:
    """Two commands 0.4 s apart are two operations whether the watcher handles them in one
    batch or two (test_git_grouping.py forces the one batch): the restore's file is git's
    restore, the checkout's files are git_checkout. Seen in code-server before the fix: one
    batch, and the restored file recorded as git_checkout."""
    (repo / "src" / "f4.txt").write_text("oops\n")
    with Sidecar(tmp_path, [repo]) as sc:
        code = ("import subprocess, time; subprocess.run(['git','restore','src/f4.txt'], check=True);"
                "time.sleep(0.4); subprocess.run(['git','checkout','-q','feature'], check=True)")
        subprocess.run([sys.executable, "-c", code], cwd=repo, check=True)
        changes = sc.file_changes()
        expect_sources(FAMILY, changes, {"src/f4.txt": ("git", None), "src/f0.txt": ("git_checkout", None),
                                         "src/feat.txt": ("git_checkout", None)})
        assert {c["file"]: c["git_op"] for c in changes} == {"src/f4.txt": "restore", "src/f0.txt": "checkout",
                                                            "src/feat.txt": "checkout"}
