"""Scenarios: real processes writing files (no agent running) and named CLI agents.

The named agents are stand-ins: real executables called ``claude``, ``codex``... that edit
files like the real tools do (the real ones need the network). What is tested is the
recorder's side: a process of that name alive in the workspace when the write happens.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.attribution.harness import Sidecar, expect_sources, git, judge
from tests.helpers.agents import make_agent
from tests.helpers.disk import write_tree

EXT = "external-process"
AGENT = "named-agent"


@pytest.fixture
def ws(tmp_path: Path) -> Path:
    files: dict[str, str | bytes] = {f"pkg/m{i}.py": f"x{i} = {i}\n" for i in range(5)}
    return write_tree(tmp_path / "ws", {**files, "data.bin": bytes(range(256))})


def run_py(code: str, cwd: Path) -> None:
    subprocess.run([sys.executable, "-c", code], cwd=cwd, check=True, timeout=120)


def test_plain_write_create_delete(ws: Path, tmp_path: Path) -> None:
    with Sidecar(tmp_path, [ws]) as sc:
        run_py("open('pkg/m0.py','w').write('x0 = 100\\n'); open('new.txt','w').write('n\\n');"
               "import os; os.unlink('pkg/m1.py')", ws)
        changes = sc.file_changes()
        expect_sources(EXT, changes, {"pkg/m0.py": ("external", None), "new.txt": ("external", None),
                                      "pkg/m1.py": ("external", None)})
        kinds = {c["file"]: c["change"] for c in changes}
        assert kinds == {"pkg/m0.py": "change", "new.txt": "create", "pkg/m1.py": "delete"}


def test_atomic_rename_write(ws: Path, tmp_path: Path) -> None:
    with Sidecar(tmp_path, [ws]) as sc:
        run_py("import os; open('pkg/.m2.py.tmp','w').write('x2 = 22\\n'); os.replace('pkg/.m2.py.tmp','pkg/m2.py')", ws)
        changes = sc.file_changes()
        expect_sources(EXT, changes, {"pkg/m2.py": ("external", None)})
        assert changes[0]["change"] == "change" and "+x2 = 22" in changes[0]["diff"]


def test_sed_in_place(ws: Path, tmp_path: Path) -> None:
    with Sidecar(tmp_path, [ws]) as sc:
        subprocess.run(["sed", "-i", "s/= 3/= 33/", "pkg/m3.py"], cwd=ws, check=True)
        expect_sources(EXT, sc.file_changes(), {"pkg/m3.py": ("external", None)})


def test_formatter(ws: Path, tmp_path: Path) -> None:
    black = shutil.which("black") or str(Path(sys.executable).with_name("black"))
    if not Path(black).exists():
        pytest.skip("black is not installed (scripts/setup.sh installs the dev extra)")
    (ws / "ugly.py").write_text("def f( a,b ):\n  return {'a':a,'b':b}\n")
    with Sidecar(tmp_path, [ws]) as sc:
        subprocess.run([black, "-q", "ugly.py", "pkg"], cwd=ws, check=True)
        changes = sc.file_changes()
        expect_sources(EXT, changes, {"ugly.py": ("external", None)})


def test_script_edits_200_files(ws: Path, tmp_path: Path) -> None:
    for i in range(200):
        (ws / "pkg" / f"gen{i}.py").write_text(f"value = {i}\n")
    with Sidecar(tmp_path, [ws]) as sc:
        run_py("import glob\nfor p in sorted(glob.glob('pkg/gen*.py')):\n"
               "    t = open(p).read(); open(p, 'w').write(t.replace('value', 'VALUE'))", ws)
        changes = sc.file_changes()
        expect_sources(EXT, changes, {f"pkg/gen{i}.py": ("external", None) for i in range(200)})


def test_vim_in_a_process(ws: Path, tmp_path: Path) -> None:
    with Sidecar(tmp_path, [ws]) as sc:
        subprocess.run(["vim", "-u", "NONE", "-N", "-n", "-es", "-c", "set backup writebackup backupcopy=no",
                        "-c", "%s/4/44/", "-c", "wq", "pkg/m4.py"], cwd=ws, check=True, stdin=subprocess.DEVNULL)
        expect_sources(EXT, sc.file_changes(), {"pkg/m4.py": ("external", None)})


def test_binary_and_moves(ws: Path, tmp_path: Path) -> None:
    with Sidecar(tmp_path, [ws]) as sc:
        run_py("open('data.bin','wb').write(bytes(range(255,-1,-1))); import os; os.rename('pkg/m0.py','pkg/zero.py')", ws)
        changes = sc.file_changes()
        expect_sources(EXT, changes, {"data.bin": ("external", None), "pkg/zero.py": ("external", None)})
        by = {c["file"]: c for c in changes}
        assert by["data.bin"]["diff"] is None
        assert by["pkg/zero.py"]["change"] == "rename" and by["pkg/zero.py"]["old_file"] == "pkg/m0.py"


# -- named CLI agents ----------------------------------------------------------------------

def run_agent(bin_dir: Path, name: str, ws: Path, plan: list[dict], env: dict | None = None,
              launcher: list[str] | None = None) -> None:
    agent = make_agent(bin_dir, name)
    argv = [*(launcher or []), str(agent), json.dumps(plan)]
    subprocess.run(argv, cwd=ws, check=True, timeout=120, env={**os.environ, **(env or {})})


def test_claude_edits_files_and_snapshot_restores(ws: Path, tmp_path: Path) -> None:
    from crowd.snapshots import SnapshotStore
    from tests.helpers.disk import disk_tree

    (ws / ".gitignore").write_text("ignored/\n")
    (ws / "ignored").mkdir()
    (ws / "ignored" / "junk.txt").write_text("not in the snapshot\n")
    with Sidecar(tmp_path, [ws]) as sc:
        before = {k: v for k, v in disk_tree(ws).items() if not k.startswith("ignored/")}
        run_agent(tmp_path / "bin", "claude", ws, [
            {"op": "replace", "path": "pkg/m0.py", "old": "0", "new": "zero"},
            {"op": "write", "path": "pkg/added.py", "text": "added = True\n"},
            {"op": "delete", "path": "pkg/m4.py"},
        ])
        events = sc.sync()
        expect_sources(AGENT, sc.file_changes(events), {"pkg/m0.py": ("agent", "claude"),
                                                        "pkg/added.py": ("agent", "claude"),
                                                        "pkg/m4.py": ("agent", "claude")})
        kinds = [e["kind"] for e in events if e.get("kind") in ("snapshot", "file_change")]
        assert kinds[0] == "snapshot", kinds
        snap = next(e for e in events if e.get("kind") == "snapshot")
        from tests.helpers.waiting import wait_for   # the sidecar writes snapshots off its hot path
        wait_for(lambda: (sc.dir / "snapshots" / "manifests" / f"{snap['snapshot_id']}.json").exists())
        SnapshotStore(sc.dir / "snapshots").restore(snap["snapshot_id"], tmp_path / "restored")
        restored = disk_tree(tmp_path / "restored")
        ok = restored == before
        judge("snapshot-restore", ok, "restored snapshot == workspace before the agent edit")
        assert ok, sorted(set(restored) ^ set(before))


def test_codex_through_a_launcher(ws: Path, tmp_path: Path) -> None:
    with Sidecar(tmp_path, [ws]) as sc:
        run_agent(tmp_path / "bin", "codex", ws, [{"op": "write", "path": "pkg/m1.py", "text": "x1 = 'codex'\n"}],
                  launcher=[sys.executable])
        expect_sources(AGENT, sc.file_changes(), {"pkg/m1.py": ("agent", "codex")})


def test_aider_with_a_configured_name_list(ws: Path, tmp_path: Path) -> None:
    with Sidecar(tmp_path, [ws], settings={"agents": ["mybot"]}) as sc:
        run_agent(tmp_path / "bin", "mybot", ws, [{"op": "write", "path": "pkg/m2.py", "text": "x2 = 'bot'\n"}])
        run_agent(tmp_path / "bin", "aider", ws, [{"op": "write", "path": "pkg/m3.py", "text": "x3 = 'not listed'\n"}])
        changes = sc.file_changes()
        expect_sources(AGENT, changes, {"pkg/m2.py": ("agent", "mybot"), "pkg/m3.py": ("external", None)})


def test_short_lived_agent_seen_through_the_terminal_command(ws: Path, tmp_path: Path) -> None:
    """Too quick for the process scan; the recorded terminal says what ran."""
    with Sidecar(tmp_path, [ws]) as sc:
        sc.send({"kind": "terminal_exec_start", "terminal": "t1", "command": "gemini -p 'fix it'", "cwd": None})
        run_agent(tmp_path / "bin", "gemini-cli", ws, [{"op": "write", "path": "pkg/m3.py", "text": "x3 = 'g'\n"}],
                  env={"AGENT_THINK": "0", "AGENT_LINGER": "0"})
        sc.sync()
        sc.send({"kind": "terminal_exec_end", "terminal": "t1", "exitCode": 0})
        expect_sources(AGENT, sc.file_changes(), {"pkg/m3.py": ("agent", "gemini")})


def test_agent_runs_git_checkout(ws: Path, tmp_path: Path) -> None:
    git(ws, "init", "-q")
    git(ws, "add", "-A")
    git(ws, "commit", "-qm", "base")
    git(ws, "checkout", "-qb", "feature")
    (ws / "pkg" / "m0.py").write_text("x0 = 'feature'\n")
    git(ws, "commit", "-qam", "feature")
    git(ws, "checkout", "-q", "main")
    with Sidecar(tmp_path, [ws]) as sc:
        run_agent(tmp_path / "bin", "claude", ws, [
            {"op": "run", "argv": ["git", "checkout", "-q", "feature"]},
            {"op": "write", "path": "pkg/m1.py", "text": "x1 = 'after checkout'\n"},
        ])
        expect_sources(AGENT, sc.file_changes(), {"pkg/m0.py": ("git_checkout", None),
                                                  "pkg/m1.py": ("agent", "claude")})


def test_user_command_in_terminal_is_external_with_the_command(ws: Path, tmp_path: Path) -> None:
    with Sidecar(tmp_path, [ws]) as sc:
        sc.send({"kind": "terminal_exec_start", "terminal": "t2", "command": "sed -i s/x/y/ pkg/m0.py", "cwd": None})
        subprocess.run(["sed", "-i", "s/x/y/", "pkg/m0.py"], cwd=ws, check=True)
        changes = sc.file_changes()
        sc.send({"kind": "terminal_exec_end", "terminal": "t2", "exitCode": 0})
        expect_sources(EXT, changes, {"pkg/m0.py": ("external", None)})
        assert changes[0].get("command") == "sed -i s/x/y/ pkg/m0.py"


def test_panic_deletes_snapshots_of_the_window(ws: Path, tmp_path: Path) -> None:
    (ws / "secret-plan.txt").write_text("the plan before the agent\n")
    with Sidecar(tmp_path, [ws]) as sc:
        run_agent(tmp_path / "bin", "claude", ws, [{"op": "write", "path": "secret-plan.txt", "text": "agent\n"}])
        events = sc.sync()
        assert any(e.get("kind") == "snapshot" for e in events)
        from tests.helpers.waiting import wait_for
        wait_for(lambda: any((sc.dir / "snapshots" / "manifests").glob("*.json")))
        result = sc.client.request("crowd/panic", {"minutes": 5})
        assert result["removed"] > 0
        leftovers = [p for p in (sc.dir / "snapshots").rglob("*") if p.is_file()]
        raw = b"".join(p.read_bytes() for p in leftovers)
        assert not leftovers or b"the plan before" not in raw
        assert not list((sc.dir / "snapshots" / "manifests").glob("*.json"))


def test_multi_root_agent_edits(tmp_path: Path) -> None:
    api, web = tmp_path / "api", tmp_path / "web"
    for root in (api, web):
        root.mkdir()
        (root / "main.txt").write_text(f"{root.name}\n")
    with Sidecar(tmp_path, [api, web]) as sc:
        run_agent(tmp_path / "bin", "aider", api, [{"op": "write", "path": "main.txt", "text": "api 2\n"},
                                                    {"op": "write", "path": str(web / "main.txt"), "text": "web 2\n"}])
        changes = sc.file_changes()
        expect_sources(AGENT, changes, {"api/main.txt": ("agent", "aider"), "web/main.txt": ("agent", "aider")})
        assert not any(str(tmp_path) in json.dumps(c) for c in changes)


def test_secret_files_changes_carry_no_content_and_stay_out_of_snapshots(ws: Path, tmp_path: Path) -> None:
    from crowd.snapshots import SnapshotStore
    from tests.helpers.waiting import wait_for

    (ws / ".env").write_text("API_TOKEN=before-the-agent\n")
    with Sidecar(tmp_path, [ws]) as sc:
        run_agent(tmp_path / "bin", "claude", ws, [
            {"op": "write", "path": ".env", "text": "API_TOKEN=written-by-the-agent\n"},
            {"op": "write", "path": "pkg/m1.py", "text": "x1 = 'agent'\n"},
        ])
        events = sc.sync()
        expect_sources(AGENT, sc.file_changes(events), {".env": ("agent", "claude"), "pkg/m1.py": ("agent", "claude")})
        env_change = next(c for c in sc.file_changes(events) if c["file"] == ".env")
        assert env_change["diff"] is None
        assert b"API_TOKEN" not in json.dumps(events).encode()
        snap = next(e for e in events if e.get("kind") == "snapshot")
        wait_for(lambda: (sc.dir / "snapshots" / "manifests" / f"{snap['snapshot_id']}.json").exists())
        files = SnapshotStore(sc.dir / "snapshots").files(snap["snapshot_id"])
        assert ".env" not in files and "pkg/m1.py" in files
