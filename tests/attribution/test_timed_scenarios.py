"""What users really do, at a real editor's timing: reloads of open clean files, git with
files open, save participants, explorer folder operations, terminal commands next to CLI
agents, hooks, autosave, a second editor window. One real sidecar records one workspace
with a folder per scenario run; the scripted editor's delays are drawn from the envelopes
measured in code-server (envelopes.json, timing.py), each timing-sensitive scenario at the
envelope's edges and inside it. Accuracy per family is printed after the run and written
where CROWD_ATTRIBUTION_REPORT says (bench/bench_attribution.py reads it).
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.attribution.harness import Sidecar
from tests.attribution.timed_suite import SCENARIOS, Run, Scenario, check, files, marker_sync, repo, scenario
from tests.attribution.timing import POINTS, Timing
from tests.helpers.agents import make_agent

# -- reloads of open clean files ---------------------------------------------------------------

@scenario("reload")
def sed_on_an_open_clean_file(r: Run) -> None:
    r.open("a.py")
    done = r.sh("sed -i 's/1/10/' a.py")
    r.reload("a.py", after=done)
    r.expect("a.py", "external", edits="external")


@scenario("reload")
def script_rewrites_two_open_files(r: Run) -> None:
    r.open("a.py")
    r.open("b.py")
    done = r.py("open('a.py','w').write('a = 3\\n'); open('b.py','w').write('b = 4\\n')")
    r.reload("a.py", after=done)
    r.reload("b.py", after=done)
    r.expect("a.py", "external", edits="external")
    r.expect("b.py", "external", edits="external")


@scenario("reload")
def formatter_in_a_terminal_on_an_open_file(r: Run) -> None:
    r.open("a.py")
    r.exec_start("t2", "black a.py")
    done = r.sh("printf 'a = 1  # formatted\\n' > a.py")
    r.exec_end("t2")
    r.reload("a.py", after=done)
    r.expect("a.py", "external", edits="external")


@scenario("reload")
def second_window_saves_an_open_file(r: Run) -> None:
    """Another editor window on the same folder saves a file this window shows clean."""
    r.open("b.py")
    done = r.py("open('b.py','w').write('b = \"from the other window\"\\n')")
    r.reload("b.py", after=done)
    r.expect("b.py", "external", edits="external")


@scenario("reload")
def open_file_rewritten_twice(r: Run) -> None:
    r.open("a.py")
    done = r.sh("sed -i 's/1/2/' a.py")
    r.reload("a.py", after=done)
    done = r.sh("sed -i 's/2/3/' a.py")
    r.reload("a.py", after=done)
    r.expect("a.py", "external", edits="external")


@scenario("reload")
def open_file_and_closed_file_written(r: Run) -> None:
    r.open("a.py")
    done = r.sh("sed -i 's/$/  # sed/' a.py b.py")
    r.reload("a.py", after=done)
    r.expect("a.py", "external", edits="external")
    r.expect("b.py", "external")


# -- CLI agents and terminal commands ----------------------------------------------------------

@scenario("agents")
def agent_edits_only_open_files(r: Run) -> None:
    r.user_types_elsewhere()   # the user's activity ends the agent batch of the run before
    r.open("a.py")
    r.open("b.py")
    r.exec_start("t1", "claude -p 'bump'")
    done = r.py("open('a.py','w').write('a = \"agent\"\\n'); open('b.py','w').write('b = \"agent\"\\n')")
    r.reload("a.py", after=done)
    r.reload("b.py", after=done)
    r.expect("a.py", "agent", "claude", edits="agent")
    r.expect("b.py", "agent", "claude", edits="agent")
    events = check(r)
    r.expected.clear()
    r.edit_sources.clear()
    snaps = [e for e in events if e.get("kind") == "snapshot" and e["t"] >= r.start_t]
    assert snaps, "an agent that edits only open files still gets a snapshot before its batch"


@scenario("agents")
def user_formatter_while_an_agent_idles_in_another_terminal(r: Run) -> None:
    r.exec_start("t1", "claude")
    r.exec_start("t2", "black b.py")
    r.sh("printf 'b = 2  # black\\n' > b.py")
    r.exec_end("t2")
    r.expect("b.py", "external")


@scenario("agents")
def user_sed_on_an_open_file_while_an_agent_idles(r: Run) -> None:
    r.open("a.py")
    r.exec_start("t1", "claude")
    r.exec_start("t2", "sed -i s/1/7/ a.py")
    done = r.sh("sed -i 's/1/7/' a.py")
    r.exec_end("t2")
    r.reload("a.py", after=done)
    r.expect("a.py", "external", edits="external")


@scenario("agents")
def user_sed_on_a_file_with_unsaved_edits_while_an_agent_idles(r: Run) -> None:
    r.open("a.py")
    r.type("a.py", "a = 1\n# typing\n")
    r.exec_start("t1", "claude")
    r.exec_start("t2", "sed -i s/b/c/ b.py a.py")
    r.sh("sed -i 's/1/8/' a.py")
    r.exec_end("t2")
    r.expect("a.py", "external")


@scenario("agents")
def agent_writes_open_and_closed_files(r: Run) -> None:
    r.open("a.py")
    r.exec_start("t1", "codex exec 'fix'")
    done = r.py("open('a.py','w').write('a = \"codex\"\\n'); open('b.py','w').write('b = \"codex\"\\n')")
    r.reload("a.py", after=done)
    r.expect("a.py", "agent", "codex", edits="agent")
    r.expect("b.py", "agent", "codex")


@scenario("agents", timed=False)
def formatter_then_agent_starts(r: Run) -> None:
    """``black f.py && claude``: the formatter's write comes before the agent process starts
    (an agent seen by the process scan only: no terminal reported it)."""
    time.sleep(0.3)   # the user starts this a moment after the run before ended its commands
    agent = make_agent(r.tmp / "bin", "claude")
    env = {**os.environ, "AGENT_THINK": "0.3", "AGENT_LINGER": "0.2"}
    # not the shell's last command: bash forks it (an exec'd last command would keep the shell's
    # start time, from before the write, as an interactive shell never does)
    subprocess.run(["sh", "-c", f"printf 'a = 1  # black\\n' > a.py && {agent} '[]'; true"],
                   cwd=r.path("."), env=env, check=True)
    r.expect("a.py", "external")


@scenario("agents", timed=False)
def scanned_agent_writes_an_open_file(r: Run) -> None:
    """An agent started outside the recorded terminals: seen by the process scan only."""
    r.open("a.py")
    agent = make_agent(r.tmp / "bin", "aider")
    subprocess.run([str(agent), json.dumps([{"op": "write", "path": "a.py", "text": "a = 'aider'\n"}])],
                   cwd=r.path("."), env={**os.environ, "AGENT_THINK": "0.4", "AGENT_LINGER": "0.8"}, check=True)
    r.reload("a.py", after=time.monotonic() - 0.8)
    r.expect("a.py", "agent", "aider", edits="agent")


# -- git with files open -------------------------------------------------------------------------

GIT_TREE = {"a.py": "a = 1\n", "b.py": "b = 2\n", "c.py": "c = 3\n"}


@scenario("git", setup=repo(GIT_TREE, {"a.py": "a = 'other'\n", "b.py": "b = 'other'\n"}))
def checkout_with_files_open(r: Run) -> None:
    r.open("a.py")
    r.open("b.py")
    done = r.git("checkout", "-q", "other")
    r.reload("a.py", "reload_after_git_checkout", after=done)
    r.reload("b.py", "reload_after_git_checkout", after=done)
    r.expect("a.py", "git_checkout", edits="git_checkout")
    r.expect("b.py", "git_checkout", edits="git_checkout")


@scenario("git", setup=repo(GIT_TREE, {"a.py": "a = 'other'\n"}))
def stash_with_files_open(r: Run) -> None:
    r.open("a.py")
    done = r.sh("sed -i 's/1/99/' a.py")
    r.reload("a.py", after=done)
    r.expect("a.py", "external", edits="external")
    r.next_phase()
    done = r.git("stash", "-q")
    r.reload("a.py", "reload_after_git_checkout", after=done)
    r.expect("a.py", "git", edits="git")


@scenario("git", setup=repo(GIT_TREE, {"c.py": "c = 'other'\n"}))
def rebase_with_files_open(r: Run) -> None:
    r.open("c.py")
    r.sh("printf 'x\\n' > new.txt")
    r.git("add", "new.txt")
    r.git("commit", "-qm", "local")
    r.expect("new.txt", "external")
    r.next_phase()
    done = r.git("rebase", "-q", "other")
    r.reload("c.py", "reload_after_git_checkout", after=done)
    r.expect("c.py", "git_checkout", edits="git_checkout")


@scenario("git", setup=repo(GIT_TREE, {"a.py": "a = 'other'\n"}))
def restore_an_open_file(r: Run) -> None:
    r.open("a.py")
    done = r.sh("sed -i 's/1/42/' a.py")
    r.reload("a.py", after=done)
    r.expect("a.py", "external", edits="external")
    r.next_phase()
    done = r.git("checkout", "-q", "--", "a.py")
    r.reload("a.py", "reload_after_git_checkout", after=done)
    r.expect("a.py", "git", edits="git")


HOOK = "#!/bin/sh\nsed -i 's/  *$//' a.py\n"


def hooked_repo(root: Path) -> None:
    repo(GIT_TREE, {})(root)
    hook = root / ".git" / "hooks" / "pre-commit"
    hook.write_text(HOOK)
    hook.chmod(0o755)


@scenario("git", setup=hooked_repo, timed=False)
def pre_commit_hook_formats_during_commit_all(r: Run) -> None:
    r.sh("printf 'a = 5   \\n' > a.py")
    r.expect("a.py", "external")
    r.next_phase()
    r.exec_start("t2", "git commit -a -m wip")
    r.git("commit", "-qam", "wip")
    r.exec_end("t2")
    r.expect("a.py", "external")


# -- the editor's own writes -----------------------------------------------------------------------

def trim(text: str) -> str:
    return "\n".join(line.rstrip() for line in text.split("\n"))


@scenario("save", setup=files({"f.py": "x = 1\n"}))
def trim_whitespace_on_save(r: Run) -> None:
    r.open("f.py")
    r.type("f.py", "x = 1\ny = 2   \n")
    r.save("f.py", participant=trim)
    r.expect("f.py", None, edits="user")


@scenario("save", setup=files({"f.py": "def f( a ):\n  return a\n"}))
def format_on_save(r: Run) -> None:
    r.open("f.py")
    r.type("f.py", "def f( a ):\n  return a\nz=1\n")
    r.save("f.py", participant=lambda t: t.replace("( a )", "(a)").replace("  return", "    return").replace("z=1", "z = 1"))
    r.expect("f.py", None, edits="user")


# how long after an inline agent's edit the user saves (a human reaction: issue 14's brief);
# a save participant's write follows its edit by 20.4 ms at the most (envelopes.json)
SAVE_AFTER_AGENT_S = {"min": 0.05, "max": 0.3}


@scenario("save", setup=files({"f.py": "x = 1\n"}))
def inline_agent_edits_a_dirty_buffer_then_the_user_saves(r: Run) -> None:
    """Not a save participant: the agent's edit is written by the user's save 50-300 ms later."""
    r.open("f.py")
    r.type("f.py", "x = 1\ny = 2\n")
    r.next_phase()
    edit = r.edit_event("f.py", "x = 1\ny = 2\nz = 3  # the agent's\n")
    made = time.monotonic()
    acked = r.send_meanwhile(edit)
    gap = SAVE_AFTER_AGENT_S.get(r.timing.point) or r.timing.rng.uniform(0.05, 0.3)
    time.sleep(max(0.0, gap - (time.monotonic() - made)))   # the modelled user's reaction
    acked()
    r.save("f.py")
    r.expect("f.py", None, edits="agent")


@scenario("save", setup=files({"f.py": "x = 1\n"}))
def plain_save(r: Run) -> None:
    r.open("f.py")
    r.type("f.py", "x = 1\nw = 0\n")
    r.save("f.py")
    r.expect("f.py", None, edits="user")


@scenario("save", setup=files({"f.py": "x = 1\n"}))
def autosave_after_delay(r: Run) -> None:
    r.open("f.py")
    r.type("f.py", "x = 1\nq = 3\n")
    time.sleep(0.2)   # files.autoSaveDelay (modelled)
    r.save("f.py")
    r.expect("f.py", None, edits="user")


# -- explorer folder operations ------------------------------------------------------------------

TREE = {"pkg/one.py": "one = 1\n", "pkg/two.py": "two = 2\n", "pkg/sub/three.py": "three = 3\n"}


@scenario("folders", setup=files(TREE))
def explorer_folder_rename(r: Run) -> None:
    os.rename(r.path("pkg"), r.path("lib"))
    done = time.monotonic()
    r.file_op("rename", [{"oldUri": r.uri("pkg"), "newUri": r.uri("lib")}], after=done)
    r.expect("lib", "user")
    for name in TREE:
        r.expect(name, None)
        r.expect("lib/" + name[4:], None)


@scenario("folders", setup=files(TREE))
def explorer_folder_delete(r: Run) -> None:
    shutil.rmtree(r.path("pkg"))
    done = time.monotonic()
    r.file_op("delete", [{"uri": r.uri("pkg")}], after=done)
    r.expect("pkg", "user")
    for name in TREE:
        r.expect(name, None)


@scenario("folders", setup=files(TREE))
def shell_folder_move_is_external(r: Run) -> None:
    r.sh("mv pkg lib")
    for name in TREE:
        r.expect("lib/" + name[4:], "external")


# -- the suite -------------------------------------------------------------------------------------

import tests.attribution.timed_more  # noqa: E402,F401 - registers the further families

CASES = [(s, point) for s in SCENARIOS for point in (s.points or POINTS if s.timed else ("-",))]


def folder_of(s: Scenario, point: str) -> str:
    return f"{s.name}-{point}"


@pytest.fixture(scope="module")
def suite(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Sidecar, Path, Path]]:
    tmp = tmp_path_factory.mktemp("timed")
    ws = tmp / "ws"
    for s, point in CASES:
        folder = ws / folder_of(s, point)
        folder.mkdir(parents=True)
        s.setup(folder)
        (folder / ".marker").write_text("")
    with Sidecar(tmp, [ws]) as sc:
        # the bridge reports typing (the harder case: unexplained edits are an agent's); the
        # keystroke's license is used up by its own edit in a file no scenario touches
        (ws / "typing.txt").write_text("")
        sc.send({"kind": "document_open", "uri": sc.uri("typing.txt"), "text": "", "languageId": "plaintext",
                 "version": 1})
        sc.send({"kind": "user_input", "what": "type", "text": "k"},
                {"kind": "document_change", "uri": sc.uri("typing.txt"), "version": 2, "reason": None,
                 "visible": True, "active": True, "changes": [{"offset": 0, "length": 0, "text": "k"}]})
        yield sc, ws, tmp


@pytest.mark.parametrize("s,point", CASES, ids=[f"{s.name}-{p}" for s, p in CASES])
def test_timed_scenario(suite: tuple[Sidecar, Path, Path], s: Scenario, point: str) -> None:
    sc, ws, tmp = suite
    run = Run(sc, ws, folder_of(s, point), Timing(point, s.name), s.family, tmp)
    run.start_t = marker_sync(run)[-1]["t"] + 1
    try:
        s.run(run)
        if run.expected or run.edit_sources:
            check(run)
    finally:
        for terminal in ("t1", "t2"):   # no command of this run stays running for the next
            run.exec_end(terminal)


def test_the_suite_is_big_enough() -> None:
    assert len(SCENARIOS) >= 60, len(SCENARIOS)
