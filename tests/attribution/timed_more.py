"""More of what users really do, for the timed suite (test_timed_scenarios.py runs them): other
ways of rewriting an open file, agents next to open files and the user's commands, git
commands with files open (switch, reset, merge, cherry-pick, stash pop, restore, commits
that write nothing), a hook formatting an open file, saves and autosave, explorer file
operations, shell folder operations, symlinks, and a second editor window on the folder.

Scenarios whose judgment depends on the editor's timing (a reload, a save) run at the
envelope's edges and one point inside (EDGES_AND_INSIDE); the others once, at the measured
p50 (``timed=False``). The explorer's file_op envelope is 11 ms wide: its scenarios run once.
"""
from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

from tests.attribution.timed_suite import Run, files, repo, scenario
from tests.helpers.agents import make_agent

EDGES_AND_INSIDE = ("min", "max", "inside-1")
GIT_TREE = {"a.py": "a = 1\n", "b.py": "b = 2\n", "c.py": "c = 3\n"}
TREE = {"a.py": "a = 1\n", "pkg/one.py": "one = 1\n", "pkg/two.py": "two = 2\n"}


# -- other ways of rewriting an open, clean file -------------------------------------------------

@scenario("reload", points=EDGES_AND_INSIDE)
def append_to_an_open_file(r: Run) -> None:
    r.open("a.py")
    done = r.sh("echo 'x = 0' >> a.py")
    r.reload("a.py", after=done)
    r.expect("a.py", "external", edits="external")


@scenario("reload", points=EDGES_AND_INSIDE)
def truncate_an_open_file(r: Run) -> None:
    r.open("a.py")
    done = r.sh(": > a.py")
    r.reload("a.py", after=done)
    r.expect("a.py", "external", edits="external")


@scenario("reload", points=EDGES_AND_INSIDE)
def copy_over_an_open_file(r: Run) -> None:
    r.open("a.py")
    done = r.sh("cp b.py a.py")
    r.reload("a.py", after=done)
    r.expect("a.py", "external", edits="external")


@scenario("reload", points=EDGES_AND_INSIDE)
def perl_in_place_on_an_open_file(r: Run) -> None:
    """perl -pi unlinks the file and writes a new one under the same name."""
    r.open("a.py")
    done = r.sh("perl -pi -e 's/1/5/' a.py")
    r.reload("a.py", after=done)
    r.expect("a.py", "external", edits="external")


@scenario("reload", points=EDGES_AND_INSIDE)
def atomic_replace_of_an_open_file(r: Run) -> None:
    """A tool writing a temporary file and renaming it over the open one (prettier, ruff)."""
    r.open("a.py")
    done = r.py("import os; open('.a.py.tmp','w').write('a = 9\\n'); os.replace('.a.py.tmp','a.py')")
    r.reload("a.py", after=done)
    r.expect("a.py", "external", edits="external")


@scenario("reload", points=EDGES_AND_INSIDE)
def one_of_two_open_files_written(r: Run) -> None:
    r.open("a.py")
    r.open("b.py")
    done = r.sh("sed -i 's/1/11/' a.py")
    r.reload("a.py", after=done)
    r.expect("a.py", "external", edits="external")
    r.expect("b.py", None)


@scenario("reload", timed=False)
def open_file_deleted_in_a_shell(r: Run) -> None:
    """VS Code keeps the buffer of a deleted file (marked deleted): no reload."""
    r.open("a.py")
    r.sh("rm a.py")
    r.expect("a.py", "external")


@scenario("reload", points=EDGES_AND_INSIDE)
def sed_on_an_open_file_with_typing_signals_off(r: Run) -> None:
    """The bridge's typing signals off (a Vim extension types through its own commands):
    the reload is still the writer's, the user's typing still the user's."""
    r.sc.send({"kind": "user_input", "what": "signals", "on": False})
    try:
        r.open("a.py")
        r.open("b.py")
        r.sc.send(r.edit_event("b.py", "b = 2\n# vim\n"))
        done = r.sh("sed -i 's/1/12/' a.py")
        r.reload("a.py", after=done)
        r.expect("a.py", "external", edits="external")
        r.expect("b.py", None, edits="user")
    finally:   # the rest of the suite runs with signals on
        r.sc.send({"kind": "user_input", "what": "signals", "on": True})


# -- CLI agents next to open files and the user's commands ---------------------------------------

@scenario("agents", timed=False)
def agent_creates_a_file_next_to_open_ones(r: Run) -> None:
    r.open("a.py")
    r.exec_start("t1", "claude -p 'add c'")
    r.py("open('c.py','w').write('c = 3\\n')")
    r.expect("c.py", "agent", "claude")


@scenario("agents", timed=False)
def agent_deletes_an_open_file(r: Run) -> None:
    r.open("a.py")
    r.exec_start("t1", "claude -p 'remove a'")
    r.sh("rm a.py")
    r.expect("a.py", "agent", "claude")


@scenario("agents", points=EDGES_AND_INSIDE)
def agent_through_a_launcher_edits_an_open_file(r: Run) -> None:
    r.open("a.py")
    r.exec_start("t1", "npx codex exec 'fix'")
    done = r.py("open('a.py','w').write('a = \"npx codex\"\\n')")
    r.reload("a.py", after=done)
    r.expect("a.py", "agent", "codex", edits="agent")


@scenario("agents", timed=False)
def agent_with_an_environment_prefix(r: Run) -> None:
    r.exec_start("t1", "ANTHROPIC_MODEL=opus claude -p 'fix'")
    r.py("open('b.py','w').write('b = \"env claude\"\\n')")
    r.expect("b.py", "agent", "claude")


@scenario("agents", timed=False)
def agent_writes_a_file_with_unsaved_edits(r: Run) -> None:
    """The editor does not reload a dirty buffer; the agent's write is its own."""
    r.open("a.py")
    r.type("a.py", "a = 1\n# mine\n")
    r.exec_start("t1", "claude -p 'fix'")
    r.py("open('a.py','w').write('a = \"claude\"\\n')")
    r.expect("a.py", "agent", "claude")


@scenario("agents", timed=False)
def user_command_right_after_the_agent_ended(r: Run) -> None:
    r.exec_start("t1", "claude")
    r.exec_end("t1")
    r.exec_start("t2", "sed -i s/2/3/ b.py")
    r.sh("sed -i 's/2/3/' b.py")
    r.exec_end("t2")
    r.expect("b.py", "external")


@scenario("agents", points=EDGES_AND_INSIDE)
def agent_edits_an_open_file_twice(r: Run) -> None:
    r.open("a.py")
    r.exec_start("t1", "claude -p 'twice'")
    done = r.py("open('a.py','w').write('a = \"first\"\\n')")
    r.reload("a.py", after=done)
    done = r.py("open('a.py','w').write('a = \"second\"\\n')")
    r.reload("a.py", after=done)
    r.expect("a.py", "agent", "claude", edits="agent")


@scenario("agents", timed=False)
def scanned_agent_creates_a_file(r: Run) -> None:
    """An agent started outside the recorded terminals creates a file."""
    agent = make_agent(r.tmp / "bin", "gemini")
    subprocess.run([str(agent), '[{"op": "write", "path": "new.py", "text": "n = 1\\n"}]'], cwd=r.path("."),
                   env={**os.environ, "AGENT_THINK": "0.4", "AGENT_LINGER": "0.8"}, check=True)
    r.expect("new.py", "agent", "gemini")


# -- git with files open ---------------------------------------------------------------------------

@scenario("git", setup=repo(GIT_TREE, {"a.py": "a = 'other'\n", "b.py": "b = 'other'\n"}), points=EDGES_AND_INSIDE)
def switch_with_files_open(r: Run) -> None:
    r.open("a.py")
    r.open("b.py")
    done = r.git("switch", "-q", "other")
    r.reload("a.py", "reload_after_git_checkout", after=done)
    r.reload("b.py", "reload_after_git_checkout", after=done)
    r.expect("a.py", "git_checkout", edits="git_checkout")
    r.expect("b.py", "git_checkout", edits="git_checkout")


@scenario("git", setup=repo(GIT_TREE, {"a.py": "a = 'other'\n"}), points=EDGES_AND_INSIDE)
def reset_hard_to_another_commit_with_a_file_open(r: Run) -> None:
    r.open("a.py")
    done = r.git("reset", "-q", "--hard", "other")
    r.reload("a.py", "reload_after_git_checkout", after=done)
    r.expect("a.py", "git_checkout", edits="git_checkout")


@scenario("git", setup=repo(GIT_TREE, {"a.py": "a = 'other'\n"}), points=EDGES_AND_INSIDE)
def fast_forward_merge_with_a_file_open(r: Run) -> None:
    r.open("a.py")
    done = r.git("merge", "-q", "--ff-only", "other")
    r.reload("a.py", "reload_after_git_checkout", after=done)
    r.expect("a.py", "git_checkout", edits="git_checkout")


@scenario("git", setup=repo(GIT_TREE, {"a.py": "a = 'other'\n"}), points=EDGES_AND_INSIDE)
def cherry_pick_with_a_file_open(r: Run) -> None:
    r.open("a.py")
    done = r.git("cherry-pick", "other")
    r.reload("a.py", "reload_after_git_checkout", after=done)
    r.expect("a.py", "git_checkout", edits="git_checkout")


@scenario("git", setup=repo(GIT_TREE, {}), points=EDGES_AND_INSIDE)
def stash_and_pop_with_a_file_open(r: Run) -> None:
    r.open("a.py")
    done = r.sh("sed -i 's/1/77/' a.py")
    r.reload("a.py", after=done)
    r.expect("a.py", "external", edits="external")
    r.next_phase()
    done = r.git("stash", "-q")
    r.reload("a.py", "reload_after_git_checkout", after=done)
    r.expect("a.py", "git", edits="git")
    r.next_phase()
    done = r.git("stash", "pop", "-q")
    r.reload("a.py", "reload_after_git_checkout", after=done)
    r.expect("a.py", "git", edits="git")


@scenario("git", setup=repo(GIT_TREE, {}), points=EDGES_AND_INSIDE)
def git_restore_of_an_open_file(r: Run) -> None:
    r.open("a.py")
    done = r.sh("sed -i 's/1/43/' a.py")
    r.reload("a.py", after=done)
    r.expect("a.py", "external", edits="external")
    r.next_phase()
    done = r.git("restore", "a.py")
    r.reload("a.py", "reload_after_git_checkout", after=done)
    r.expect("a.py", "git", edits="git")


@scenario("git", setup=repo(GIT_TREE, {}), timed=False)
def commit_writes_nothing(r: Run) -> None:
    r.sh("printf 'b = 20\\n' > b.py")
    r.expect("b.py", "external")
    r.next_phase()
    r.exec_start("t2", "git commit -am wip")
    r.git("commit", "-qam", "wip")
    r.exec_end("t2")
    r.expect("b.py", None)


@scenario("git", setup=repo(GIT_TREE, {}), timed=False)
def new_branch_writes_nothing(r: Run) -> None:
    r.open("a.py")
    r.git("checkout", "-qb", "feature")
    r.expect("a.py", None)


@scenario("git", setup=repo(GIT_TREE, {"a.py": "a = 'other'\n"}), timed=False)
def checkout_while_another_file_has_unsaved_edits(r: Run) -> None:
    r.open("c.py")
    r.type("c.py", "c = 3\n# unsaved\n")
    r.git("checkout", "-q", "other")
    r.expect("a.py", "git_checkout")
    r.expect("c.py", None)


# -- a hook formatting an open file -----------------------------------------------------------------

def hooked_repo(root: Path) -> None:
    repo(GIT_TREE, {})(root)
    hook = root / ".git" / "hooks" / "pre-commit"
    hook.write_text("#!/bin/sh\nsed -i 's/  *$//' a.py\n")
    hook.chmod(0o755)


@scenario("git", setup=hooked_repo, points=EDGES_AND_INSIDE)
def pre_commit_hook_formats_an_open_file(r: Run) -> None:
    r.open("a.py")
    done = r.sh("printf 'a = 6   \\n' > a.py")
    r.reload("a.py", after=done)
    r.expect("a.py", "external", edits="external")
    r.next_phase()
    r.exec_start("t2", "git commit -a -m wip")
    done = r.git("commit", "-qam", "wip")
    r.exec_end("t2")
    r.reload("a.py", after=done)
    r.expect("a.py", "external", edits="external")


# -- saves and autosave ---------------------------------------------------------------------------

@scenario("save", points=EDGES_AND_INSIDE)
def save_all_with_two_files(r: Run) -> None:
    r.open("a.py")
    r.open("b.py")
    r.type("a.py", "a = 1\nmore = 1\n")
    r.type("b.py", "b = 2\nmore = 2\n")
    r.save("a.py")
    r.save("b.py")
    r.expect("a.py", None)
    r.expect("b.py", None)


@scenario("save", timed=False)
def save_of_an_earlier_state_while_typing_goes_on(r: Run) -> None:
    """Autosave writes the buffer of a moment ago while the user keeps typing."""
    r.open("a.py")
    r.type("a.py", "a = 1\nx")
    r.path("a.py").write_text("a = 1\nx")
    r.type("a.py", "a = 1\nxy")
    r.sc.send({"kind": "document_save", "uri": r.uri("a.py"), "version": r.versions["a.py"] - 1})
    r.expect("a.py", None)


@scenario("save", points=EDGES_AND_INSIDE)
def save_then_sed_on_the_saved_file(r: Run) -> None:
    r.open("a.py")
    r.type("a.py", "a = 1\nsaved = 1\n")
    r.save("a.py")
    r.expect("a.py", None)
    r.next_phase()
    done = r.sh("sed -i 's/saved/sedded/' a.py")
    r.reload("a.py", after=done)
    r.expect("a.py", "external", edits="external")


# -- explorer file operations and shell folder operations -------------------------------------------

@scenario("folders", setup=files(TREE), timed=False)
def explorer_file_rename(r: Run) -> None:
    os.rename(r.path("a.py"), r.path("renamed.py"))
    r.file_op("rename", [{"oldUri": r.uri("a.py"), "newUri": r.uri("renamed.py")}], after=time.monotonic())
    r.expect("renamed.py", "user")
    r.expect("a.py", None)


@scenario("folders", setup=files(TREE), timed=False)
def explorer_file_delete(r: Run) -> None:
    os.remove(r.path("a.py"))
    r.file_op("delete", [{"uri": r.uri("a.py")}], after=time.monotonic())
    r.expect("a.py", "user")


@scenario("folders", setup=files(TREE), timed=False)
def explorer_move_of_a_file_into_a_folder(r: Run) -> None:
    os.rename(r.path("a.py"), r.path("pkg/a.py"))
    r.file_op("rename", [{"oldUri": r.uri("a.py"), "newUri": r.uri("pkg/a.py")}], after=time.monotonic())
    r.expect("pkg/a.py", "user")
    r.expect("a.py", None)


@scenario("folders", setup=files(TREE), timed=False)
def shell_makes_a_folder_and_a_file(r: Run) -> None:
    r.sh("mkdir fresh && printf 'n = 1\\n' > fresh/n.py")
    r.expect("fresh/n.py", "external")


@scenario("folders", setup=files(TREE), timed=False)
def shell_removes_a_folder(r: Run) -> None:
    r.sh("rm -rf pkg")
    r.expect("pkg/one.py", "external")
    r.expect("pkg/two.py", "external")


# -- symlinks -------------------------------------------------------------------------------------

def linked(root: Path) -> None:
    files({"a.py": "a = 1\n"})(root)
    os.symlink("a.py", root / "link.py")


@scenario("symlinks", timed=False)
def symlink_made_in_a_shell(r: Run) -> None:
    r.sh("ln -s a.py alias.py")
    r.expect("alias.py", "external")


@scenario("symlinks", setup=linked, timed=False)
def write_through_a_symlink(r: Run) -> None:
    """The link is an entry (its target), not followed: the file it points to changed."""
    r.sh("printf 'a = 3\\n' > link.py")
    r.expect("a.py", "external")
    r.expect("link.py", None)


@scenario("symlinks", setup=linked, timed=False)
def symlink_retargeted(r: Run) -> None:
    r.sh("ln -sfn b.py link.py")
    r.expect("link.py", "external")


# -- a second editor window on the same folder -------------------------------------------------------

@scenario("windows", timed=False)
def second_window_writes_a_file_with_unsaved_edits_here(r: Run) -> None:
    """No command, no agent, unsaved edits here: the specification's "the rest is an
    agent's" (docs/attribution.md, Ambiguities)."""
    r.open("b.py")
    r.type("b.py", "b = 2\n# here\n")
    r.py("open('b.py','w').write('b = \"there\"\\n')")
    r.expect("b.py", "agent")


@scenario("windows", timed=False)
def second_window_creates_a_file(r: Run) -> None:
    r.py("open('made_there.py','w').write('m = 1\\n')")
    r.expect("made_there.py", "external")


@scenario("windows", timed=False)
def second_window_renames_a_file(r: Run) -> None:
    r.py("import os; os.rename('b.py', 'b2.py')")
    r.expect("b2.py", "external")
