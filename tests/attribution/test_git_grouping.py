"""Two git commands close together are two operations, even when the watcher handles both
in one batch (issue 14: `git restore a.py; sleep 0.4; git checkout other` gave a.py
``git_checkout``).

Real git and the real watcher (watchdog, WorkspaceWatcher, GitMonitor). The "one batch"
condition is forced, not hoped for: the watcher's worker waits in its ``prepare`` hook (it
runs before the first batch is handled, events queue meanwhile) until both commands have
returned and a sentinel file written after them is in the watcher's queue; the first batch
then holds every event of both commands. Only watchdog's reader thread runs meanwhile, so
each event keeps the time it was received, which is what tells the commands apart.

The gaps between the commands are the scenarios themselves (a person typing the next
command), not waits for a state.
"""
from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from crowd.server.attribution.git import GitMonitor, GitOp
from crowd.server.watch import FsChange, MemoryBaseline, Roots, WorkspaceWatcher
from tests.attribution.harness import git
from tests.attribution.test_scenarios_git import colleague_pushed, make_repo
from tests.helpers.waiting import wait_for

SENTINEL = ".held-sentinel"


class HeldWatcher:
    """A real watcher on a real repository whose first batch waits for ``release()``."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.git = GitMonitor()
        self.git.discover([root])
        self.baseline = MemoryBaseline()
        self.reports: list[list[FsChange]] = []
        self.gate = threading.Event()
        self.w = WorkspaceWatcher(Roots([root]), self.baseline, self.reports.append, git=self.git)

    def __enter__(self) -> "HeldWatcher":
        self.w.start(prepare=lambda: self.gate.wait(120))
        return self

    def __exit__(self, *exc: object) -> None:
        self.gate.set()
        self.w.stop()
        assert not self.w.errors, self.w.errors

    def release(self) -> dict[str, FsChange]:
        """Let the held worker go once every event so far is queued (the sentinel, written
        last, is in the queue: inotify and the watcher's queue keep kernel order), and
        return the changes by path once all of them are handled."""
        sentinel = self.root / SENTINEL
        sentinel.write_text("x")
        wait_for(lambda: any(e.src == str(sentinel) for e in list(self.w._queue)),  # noqa: SLF001
                 what="the sentinel in the watcher's queue")
        self.gate.set()
        assert self.w.wait_idle(60)
        changes = [c for batch in self.reports for c in batch if c.rel != SENTINEL]
        assert len({c.rel for c in changes}) == len(changes), [c.rel for c in changes]
        return {c.rel: c for c in changes}


def op(changes: dict[str, FsChange], rel: str) -> GitOp:
    found = changes[rel].git
    assert isinstance(found, GitOp), (rel, found)
    return found


def expect(changes: dict[str, FsChange], rels: list[str], source: str, label: str) -> GitOp:
    """These paths were written by one operation with this source and reflog label."""
    ops = {id(op(changes, rel)) for rel in rels}
    assert len(ops) == 1, f"{rels} written by {len(ops)} operations"
    found = op(changes, rels[0])
    assert (found.source, found.label) == (source, label), (rels, found.source, found.label, found.messages)
    return found


def sha(root: Path, rev: str) -> str:
    return git(root, "rev-parse", rev).strip()


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """main: src/f0..f5; feature: f0 changed, feat.txt added; feature2: feature + f3 changed."""
    root = make_repo(tmp_path / "ws")
    git(root, "checkout", "-qb", "feature")
    (root / "src" / "f0.txt").write_text("feature 0\n")
    (root / "src" / "feat.txt").write_text("only on feature\n")
    git(root, "add", "-A")
    git(root, "commit", "-qm", "feature work")
    git(root, "checkout", "-qb", "feature2")
    (root / "src" / "f3.txt").write_text("feature2 3\n")
    git(root, "commit", "-qam", "feature2 work")
    git(root, "checkout", "-q", "main")
    return root


def two_commands(root: Path, first: Callable[[], None], gap_s: float, second: Callable[[], None]) -> dict[str, FsChange]:
    with HeldWatcher(root) as held:
        first()
        time.sleep(gap_s)   # the scenario: the next command typed this much later
        second()
        return held.release()


def test_restore_then_checkout(repo: Path) -> None:
    (repo / "src" / "f4.txt").write_text("oops\n")
    changes = two_commands(repo, lambda: git(repo, "restore", "src/f4.txt"), 0.4,
                           lambda: git(repo, "checkout", "-q", "feature"))
    restore = expect(changes, ["src/f4.txt"], "git", "restore")
    checkout = expect(changes, ["src/f0.txt", "src/feat.txt"], "git_checkout", "checkout")
    assert restore is not checkout
    assert restore.head_after is not None and restore.head_after.sha == sha(repo, "main")
    assert set(changes) == {"src/f4.txt", "src/f0.txt", "src/feat.txt"}


def test_checkout_then_restore(repo: Path) -> None:
    (repo / "src" / "f4.txt").write_text("oops\n")   # f4 is the same on both branches: carried along
    changes = two_commands(repo, lambda: git(repo, "checkout", "-q", "feature"), 0.4,
                           lambda: git(repo, "restore", "src/f4.txt"))
    checkout = expect(changes, ["src/f0.txt", "src/feat.txt"], "git_checkout", "checkout")
    restore = expect(changes, ["src/f4.txt"], "git", "restore")
    assert restore is not checkout


def test_two_checkouts(repo: Path) -> None:
    changes = two_commands(repo, lambda: git(repo, "checkout", "-q", "feature"), 0.35,
                           lambda: git(repo, "checkout", "-q", "feature2"))
    first = expect(changes, ["src/f0.txt", "src/feat.txt"], "git_checkout", "checkout")
    second = expect(changes, ["src/f3.txt"], "git_checkout", "checkout")
    assert first is not second
    # the first one's outcome is its own reflog line, not HEAD as read after the second
    assert first.head_after is not None and first.head_after.sha == sha(repo, "feature")
    assert first.head_after.ref == "refs/heads/feature"
    assert first.messages == ["checkout: moving from main to feature"]
    assert second.messages == ["checkout: moving from feature to feature2"]


def test_stash_then_checkout(repo: Path) -> None:
    (repo / "src" / "f1.txt").write_text("work in progress\n")
    changes = two_commands(repo, lambda: git(repo, "stash", "-q"), 0.4,
                           lambda: git(repo, "checkout", "-q", "feature"))
    stash = expect(changes, ["src/f1.txt"], "git", "stash")
    checkout = expect(changes, ["src/f0.txt", "src/feat.txt"], "git_checkout", "checkout")
    assert stash is not checkout


def test_commit_with_a_hook_then_checkout(repo: Path) -> None:
    """The hook's write stays the commit's (the engine records it as the hook's, not git's)."""
    hook = repo / ".git" / "hooks" / "pre-commit"
    hook.write_text("#!/bin/sh\necho formatted > src/hooked.txt\n")
    hook.chmod(0o755)
    (repo / "src" / "f1.txt").write_text("edited\n")
    changes = two_commands(repo, lambda: git(repo, "commit", "-qam", "edit"), 0.4,
                           lambda: git(repo, "checkout", "-q", "feature"))
    commit = op(changes, "src/hooked.txt")
    assert commit.label == "commit" and commit.messages == ["commit: edit"]
    checkout = expect(changes, ["src/f0.txt", "src/feat.txt", "src/f1.txt"], "git_checkout", "checkout")
    assert commit is not checkout


def test_restore_then_checkout_then_restore(repo: Path) -> None:
    """Three commands in one batch: the middle one is finished from its reflog line too."""
    (repo / "src" / "f4.txt").write_text("oops\n")
    (repo / "src" / "f5.txt").write_text("oops\n")
    with HeldWatcher(repo) as held:
        git(repo, "restore", "src/f4.txt")
        time.sleep(0.4)
        git(repo, "checkout", "-q", "feature")
        time.sleep(0.4)
        git(repo, "restore", "src/f5.txt")
        changes = held.release()
    expect(changes, ["src/f4.txt"], "git", "restore")
    expect(changes, ["src/f0.txt", "src/feat.txt"], "git_checkout", "checkout")
    expect(changes, ["src/f5.txt"], "git", "restore")
    assert len({id(c.git) for c in changes.values()}) == 3


# -- commands that take the lock several times are still one operation each ----------------

def one_command(root: Path, *args: str) -> dict[str, FsChange]:
    with HeldWatcher(root) as held:
        git(root, *args)
        return held.release()


def test_merge_is_one_operation(repo: Path) -> None:
    (repo / "src" / "f5.txt").write_text("main side\n")
    git(repo, "commit", "-qam", "main work")
    changes = one_command(repo, "merge", "-q", "--no-edit", "feature2")
    expect(changes, ["src/f0.txt", "src/feat.txt", "src/f3.txt"], "git_checkout", "merge")


def test_rebase_with_two_picks_is_one_operation(repo: Path) -> None:
    (repo / "src" / "f2.txt").write_text("main moved on\n")
    git(repo, "commit", "-qam", "main 2")
    git(repo, "checkout", "-q", "feature2")
    changes = one_command(repo, "rebase", "-q", "main")
    expect(changes, ["src/f2.txt"], "git_checkout", "rebase")
    assert set(changes) == {"src/f2.txt"}


def test_stash_pop_is_one_operation(repo: Path) -> None:
    (repo / "src" / "f1.txt").write_text("work in progress\n")
    (repo / "src" / "f2.txt").write_text("more work\n")
    git(repo, "stash", "-q")
    changes = one_command(repo, "stash", "pop", "-q")
    expect(changes, ["src/f1.txt", "src/f2.txt"], "git", "stash")


def test_pull_is_one_operation(repo: Path, tmp_path: Path) -> None:
    colleague_pushed(repo, tmp_path)
    (repo / "src" / "f5.txt").write_text("main side\n")
    git(repo, "commit", "-qam", "local work")   # not a fast-forward: fetch, then a merge
    changes = one_command(repo, "pull", "-q", "--no-rebase", "--no-edit")
    expect(changes, ["src/f2.txt", "src/theirs.txt"], "git_checkout", "pull")


def test_a_finished_command_is_found_by_the_files_it_wrote(repo: Path) -> None:
    """The engine asks this when a reload arrives after the monitor finished a command but
    before the watcher handed its changes over (a reload 0.31 s after a checkout was recorded
    ``git`` by the index-age fallback): the checkout's own files name it; a file written after
    it (a later restore or script whose events are not handled yet) does not."""
    with HeldWatcher(repo) as held:
        git(repo, "checkout", "-q", "feature")
        changes = held.release()
        checkout = expect(changes, ["src/f0.txt", "src/feat.txt"], "git_checkout", "checkout")
        wait_for(lambda: held.git.recent_op(str(repo / ".git"), 60) is checkout, what="the checkout finished")
        assert held.git.finished_op_that_wrote(str(repo / "src" / "f0.txt"), 60) is checkout
        assert held.git.finished_op_that_wrote(str(repo / "src" / "f0.txt"), 0) is None   # too long ago
        (repo / "src" / "f1.txt").write_text("written after the checkout\n")
        assert held.git.finished_op_that_wrote(str(repo / "src" / "f1.txt"), 60) is None
        assert held.git.finished_op_that_wrote(str(repo / "src" / "missing.txt"), 60) is None
