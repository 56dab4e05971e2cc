"""The watcher on real files with real watchdog: saves of every style, moves, bursts, ignores."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from crowd.server.watch import FsChange, MemoryBaseline, Roots, WorkspaceWatcher
from crowd.server.watch.watcher import Link
from tests.helpers.disk import disk_tree
from tests.helpers.waiting import wait_for


class Rec:
    def __init__(self, root: Path, **kw) -> None:
        self.changes: list[FsChange] = []
        self.baseline = MemoryBaseline()
        self.w = WorkspaceWatcher(Roots([root]), self.baseline, self.changes.extend, **kw)
        self.root = root

    def __enter__(self) -> "Rec":
        self.w.start()
        return self

    def __exit__(self, *a) -> None:
        self.w.stop()
        assert not self.w.errors, self.w.errors

    def bytes_baseline(self) -> dict[str, bytes]:
        return {k: v for k, v in self.baseline.data.items() if isinstance(v, bytes)}

    def settle_equal(self, expected: dict[str, bytes] | None = None) -> None:
        want = expected if expected is not None else disk_tree(self.root)
        wait_for(lambda: self.bytes_baseline() == want, what="cache == disk")

    def kinds(self, rel: str) -> list[str]:
        return [c.change for c in self.changes if c.rel == rel]


def test_write_change_delete(ws: Path) -> None:
    (ws / "old.txt").write_text("old\n")
    with Rec(ws) as r:
        assert r.bytes_baseline() == {"old.txt": b"old\n"}
        (ws / "a.txt").write_text("one\n")
        r.settle_equal()
        (ws / "a.txt").write_text("two\n")
        wait_for(lambda: r.baseline.get("a.txt") == b"two\n")
        (ws / "old.txt").unlink()
        r.settle_equal()
        assert r.kinds("a.txt")[0] == "create" and r.kinds("a.txt")[-1] == "change"
        assert r.kinds("old.txt") == ["delete"]
        last = [c for c in r.changes if c.rel == "a.txt"][-1]
        assert last.old in (b"one\n", None) and last.new == b"two\n"


def test_write_then_rename_save_is_one_change(ws: Path) -> None:
    (ws / "f.py").write_text("x = 1\n")
    with Rec(ws) as r:
        tmp = ws / ".f.py.tmp123"
        tmp.write_text("x = 2\n")
        os.replace(tmp, ws / "f.py")
        r.settle_equal({"f.py": b"x = 2\n"})
        assert [c.change for c in r.changes] == ["change"], r.changes


def test_real_vim_save(ws: Path) -> None:
    (ws / "v.txt").write_text("alpha\nbeta\n")
    with Rec(ws) as r:
        subprocess.run(["vim", "-u", "NONE", "-N", "-n", "-es", "-c", "set backup writebackup backupcopy=no",
                        "-c", "%s/beta/gamma/", "-c", "wq", str(ws / "v.txt")], check=True, timeout=30,
                       stdin=subprocess.DEVNULL)
        r.settle_equal({"v.txt": b"alpha\ngamma\n"})
        assert [c.rel for c in r.changes] == ["v.txt"] and r.changes[0].change == "change"


def test_vim_style_rename_sequence(ws: Path) -> None:
    f = ws / "g.txt"
    f.write_text("1\n")
    with Rec(ws) as r:
        os.rename(f, ws / "g.txt~")
        f.write_text("2\n")
        (ws / "g.txt~").unlink()
        r.settle_equal({"g.txt": b"2\n"})
        assert all(c.rel == "g.txt" for c in r.changes)


def test_moves_in_out_and_directory_ops(ws: Path, tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    (outside / "pkg" / "sub").mkdir(parents=True)
    (outside / "pkg" / "sub" / "m.py").write_text("m\n")
    (outside / "pkg" / "n.py").write_text("n\n")
    (outside / "single.txt").write_text("s\n")
    (ws / "gone" / "deep").mkdir(parents=True)
    for i in range(20):
        (ws / "gone" / "deep" / f"{i}.txt").write_text(str(i))
    with Rec(ws) as r:
        shutil.move(str(outside / "pkg"), ws / "pkg")             # directory moved in
        shutil.move(str(outside / "single.txt"), ws / "single.txt")  # file moved in
        shutil.rmtree(ws / "gone")                                # directory deleted
        r.settle_equal()
        assert set(r.bytes_baseline()) == {"pkg/sub/m.py", "pkg/n.py", "single.txt"}
        shutil.move(str(ws / "single.txt"), outside / "back.txt")  # moved out
        os.rename(ws / "pkg", ws / "lib")                          # directory renamed inside
        r.settle_equal()
        assert set(r.bytes_baseline()) == {"lib/sub/m.py", "lib/n.py"}
        renames = {(c.old_rel, c.rel) for c in r.changes if c.change == "rename"}
        assert ("pkg/n.py", "lib/n.py") in renames and ("pkg/sub/m.py", "lib/sub/m.py") in renames


def test_file_rename_is_reported_once(ws: Path) -> None:
    (ws / "a.txt").write_text("content\n")
    with Rec(ws) as r:
        os.rename(ws / "a.txt", ws / "b.txt")
        r.settle_equal()
        assert [(c.change, c.old_rel, c.rel) for c in r.changes] == [("rename", "a.txt", "b.txt")]


def test_symlinks_are_entries_not_followed(ws: Path, tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("do not read\n")
    with Rec(ws) as r:
        os.symlink(secret, ws / "link")
        os.symlink("target-dir", ws / "dirlink")
        wait_for(lambda: isinstance(r.baseline.get("link"), Link) and r.baseline.get("dirlink") is not None)
        assert r.baseline.get("link") == Link(str(secret))
        assert all(c.new != b"do not read\n" for c in r.changes)
        (ws / "link").unlink()
        wait_for(lambda: r.baseline.get("link") is None)


def test_nested_gitignore(ws: Path) -> None:
    (ws / ".gitignore").write_text("build/\n*.log\n")
    (ws / "sub").mkdir()
    (ws / "sub" / ".gitignore").write_text("*.gen\n!keep.log\n")
    with Rec(ws) as r:
        (ws / "build").mkdir()
        (ws / "build" / "out.o").write_text("o")
        (ws / "x.log").write_text("log")
        (ws / "sub" / "a.gen").write_text("gen")
        (ws / "sub" / "keep.log").write_text("kept")
        (ws / "a.gen").write_text("root gen is not ignored")
        (ws / "sub" / "real.py").write_text("py")
        want = {".gitignore", "sub/.gitignore", "sub/keep.log", "a.gen", "sub/real.py"}
        wait_for(lambda: set(r.bytes_baseline()) == want, what=f"only {want}")
        # changing a .gitignore takes effect for later events
        (ws / ".gitignore").write_text("build/\n*.log\n*.py\n")
        (ws / "sub" / "new.py").write_text("ignored now")
        (ws / "sub" / "ok.txt").write_text("ok")
        wait_for(lambda: "sub/ok.txt" in r.bytes_baseline())
        assert "sub/new.py" not in r.bytes_baseline()


def test_burst_of_thousands(ws: Path) -> None:
    script = (
        "import os, sys\n"
        "root = sys.argv[1]\n"
        "for d in range(30):\n"
        "    os.makedirs(f'{root}/d{d}', exist_ok=True)\n"
        "    for i in range(100):\n"
        "        open(f'{root}/d{d}/f{i}.txt', 'w').write(f'{d}-{i}\\n')\n"
        "for d in range(30):\n"
        "    for i in range(0, 100, 2):\n"
        "        open(f'{root}/d{d}/f{i}.txt', 'a').write('more\\n')\n"
        "    for i in range(1, 100, 10):\n"
        "        os.unlink(f'{root}/d{d}/f{i}.txt')\n"
    )
    with Rec(ws) as r:
        subprocess.run([sys.executable, "-c", script, str(ws)], check=True, timeout=120)
        r.settle_equal()
        assert len(r.bytes_baseline()) == 3000 - 300
        assert r.w.events_seen >= 3000


def test_multi_root_prefixes(tmp_path: Path) -> None:
    a, b = tmp_path / "api", tmp_path / "web"
    a.mkdir(), b.mkdir()
    seen: list[FsChange] = []
    base = MemoryBaseline()
    w = WorkspaceWatcher(Roots([a, b]), base, seen.extend)
    w.start()
    try:
        (a / "x.py").write_text("1")
        (b / "x.py").write_text("2")
        wait_for(lambda: set(base.data) == {"api/x.py", "web/x.py"})
    finally:
        w.stop()
