"""The attribution component inside a real core Session (in-process): the sidecar's
workspace cache stays equal to the disk through bursts, moves, git and binary files, and
panic removes the snapshots of the window."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from crowd.format import read_recording
from crowd.server.attribution.component import AttributionComponent
from crowd.server.session import Session
from tests.attribution.harness import git
from tests.attribution.in_process import attribution_session
from tests.helpers.disk import disk_tree
from tests.helpers.waiting import wait_for


def _cache_view(session: Session, component: AttributionComponent) -> dict[str, bytes]:
    out = {}
    for rel in component.baseline.paths():
        content = component.baseline.get(rel)
        if isinstance(content, bytes):
            out[rel] = content
    return out


def test_cache_equals_disk_through_everything(tmp_path: Path) -> None:
    root = tmp_path / "ws"
    (root / "src").mkdir(parents=True)
    for i in range(50):
        (root / "src" / f"m{i}.py").write_text(f"x = {i}\r\n")
    (root / "img.bin").write_bytes(bytes(range(256)) * 8)
    git(root, "init", "-q")
    git(root, "add", "-A")
    git(root, "commit", "-qm", "base")
    git(root, "checkout", "-qb", "b")
    for i in range(0, 50, 2):
        (root / "src" / f"m{i}.py").write_text(f"y = {i}\n")
    (root / "src" / "only_b.py").write_text("b\n")
    git(root, "add", "-A")
    git(root, "commit", "-qm", "b")
    git(root, "checkout", "-q", "main")
    session, component = attribution_session(tmp_path, root)
    try:
        equal = lambda: _cache_view(session, component) == disk_tree(root)  # noqa: E731
        assert equal()
        subprocess.run([sys.executable, "-c", "import os\nfor i in range(300):\n"
                        "    open(f'src/gen{i}.txt','w').write(str(i) * 10)\n"
                        "os.makedirs('moved/deep', exist_ok=True)\nos.rename('src/gen1.txt', 'moved/deep/g.txt')\n"
                        "open('img.bin','wb').write(bytes(range(255, -1, -1)) * 8)\n"], cwd=root, check=True)
        wait_for(equal, what="cache == disk after a burst")
        git(root, "checkout", "-q", "b")
        wait_for(equal, what="cache == disk after a checkout")
        shutil.rmtree(root / "moved")
        os.symlink("src/m1.py", root / "link.py")
        wait_for(equal, what="cache == disk after a directory delete")
        text_in_core_cache = session.workspace.get_text("src/m0.py")
        assert text_in_core_cache == "y = 0\n"
        assert session.workspace.get_text("img.bin") is None   # binary: beside the core's cache
    finally:
        session.stop()
    events = read_recording(session.directory).events
    by_source = {e["file"]: e["source"] for e in events if e.get("kind") == "file_change"}
    assert by_source["src/only_b.py"] == "git_checkout" and by_source["src/gen5.txt"] == "external"


def test_panic_deletes_snapshot_blobs_in_process(tmp_path: Path) -> None:
    root = tmp_path / "ws"
    root.mkdir()
    (root / "plan.txt").write_text("before the agent\n")
    session, component = attribution_session(tmp_path, root)
    try:
        session.bus.publish({"kind": "terminal_exec_start", "terminal": "t", "command": "claude"})
        (root / "plan.txt").write_text("after\n")
        wait_for(lambda: component.store is not None and component.store.list(), what="a snapshot")
        component.store.flush()
        session.panic(1)
        raw = b"".join(p.read_bytes() for p in (session.directory / "snapshots").rglob("*") if p.is_file())
        assert b"before the agent" not in raw and component.store.list() == []
    finally:
        session.stop()
