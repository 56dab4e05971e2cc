"""Trajectories, prompt/response pairs, SED and the dataset build (split, metadata, loading)."""
from __future__ import annotations

import hashlib
import shutil
import subprocess
from pathlib import Path

import pytest

from crowd.serializer.dataset.build import build_datasets
from crowd.serializer.dataset.pairs import convert_pairs
from crowd.serializer.dataset.sed import convert_sed, sed_edit
from crowd.serializer.dataset.trajectories import convert_trajectories
from crowd.serializer.interop.load import load_events
from crowd.serializer.synthetic import PROMPTS, generate, write_recording

FIX = Path(__file__).resolve().parents[2] / "fixtures" / "interop"


def _ev(seq, t_s, type_, kind, **kw):
    return {"seq": seq, "t": int(t_s * 1e6), "wall": 1_700_000_000_000 + int(t_s * 1000), "type": type_, "kind": kind, **kw}


def _agent_scenario(reaction: str):
    """A file, a prompt in a Claude-like terminal, an agent edit, then the user's reaction."""
    body = "def f():\n    return 1\n"
    add = "    # agent\n"
    ev = [_ev(1, 0, "session", "start", session_id="s"),
          _ev(2, 0.1, "observation", "file_content", file="a.py", text=body),
          _ev(3, 1, "action", "terminal_focus", source="user", terminal="t", name="claude"),
          _ev(4, 2, "action", "terminal_input", source="user", terminal="t", data="add a comment\r"),
          _ev(5, 2.1, "observation", "terminal_screen", terminal="t", rows=3, cols=40, focused=True, title="claude",
              lines=["╭──────╮", "│ > add a comment   │", "╰──────╯"], cursor=[1, 5]),
          _ev(6, 5, "snapshot", "snapshot", snapshot_id="snap-1", files=1),
          _ev(7, 5.1, "action", "edit", source="agent", agent="claude", file="a.py",
              changes=[{"offset": 9, "length": 0, "text": add}], reason=None)]
    if reaction == "revised":
        ev.append(_ev(8, 9, "action", "edit", source="user", file="a.py",
                      changes=[{"offset": 15, "length": 5, "text": "note"}], reason=None))
    elif reaction == "reverted":
        ev.append(_ev(8, 9, "action", "edit", source="user", file="a.py",
                      changes=[{"offset": 9, "length": len(add), "text": ""}], reason="undo"))
    elif reaction == "reverted-by-git":  # a.py is not open in the editor: the disk diff is the truth
        from crowd.serializer.replay.patch import unified_diff

        after = body[:9] + add + body[9:]
        ev.append(_ev(8, 9, "action", "file_change", source="git_checkout", file="a.py", change="change",
                      diff=unified_diff(after, body, "a.py")))
    elif reaction == "re-prompted":
        ev.append(_ev(8, 9, "action", "terminal_input", source="user", terminal="t", data="no, a docstring\r"))
        ev.append(_ev(9, 9.1, "observation", "terminal_screen", terminal="t", rows=3, cols=40, focused=True,
                      title="claude", lines=["╭──────╮", "│ > no, a docstring │", "╰──────╯"], cursor=[1, 5]))
    else:
        ev.append(_ev(8, 9, "action", "tab_switch", source="user", file="b.py", previous_file="a.py"))
    ev.append(_ev(len(ev) + 1, 20, "session", "stop"))
    return ev


@pytest.mark.parametrize("reaction", ["kept", "revised", "reverted", "reverted-by-git", "re-prompted"])
def test_pairs_feedback(reaction):
    rows = convert_pairs(_agent_scenario(reaction), "s")
    assert len(rows) == 1
    row = rows[0]
    assert row["prompt"] == "add a comment" and row["prompt_source"] == "terminal_screen"
    assert row["snapshot_id"] == "snap-1" and row["agent"] == "claude"
    assert "+    # agent" in row["response_diff"]
    assert '"a.py": "def f():\\n    return 1\\n"' in row["context_json"]
    assert row["feedback"] == reaction.removesuffix("-by-git")
    assert (row["edit_distance"] == 5) if reaction == "revised" else row["edit_distance"] is None


def test_pairs_on_a_session_cover_every_agent_turn(recording):
    events = load_events(recording).events
    rows = convert_pairs(events, "s")
    agent_turns = sum(1 for e in events if e["type"] == "snapshot")
    assert len(rows) == agent_turns and all(r["prompt"] for r in rows)
    assert {r["feedback"] for r in rows} <= {"kept", "revised", "reverted", "re-prompted"}
    assert all(r["prompt"].removeprefix("no, ") in PROMPTS for r in rows)


def test_trajectories_cut_and_goals(recording):
    events = load_events(recording).events
    rows = convert_trajectories(events, "s")
    assert sum(r["n_steps"] for r in rows) == sum(1 for e in events if e["type"] == "action")
    reasons = {r["start_reason"] for r in rows}
    assert {"prompt", "after_commit"} <= reasons
    prompts = [r for r in rows if r["goal_source"] == "agent_prompt"]
    assert prompts and all(r["goal"].removeprefix("no, ") in PROMPTS and r["goal_detail"] == "terminal_screen" for r in prompts)
    commits = [r for r in rows if r["goal_source"] == "commit_message"]
    assert all(r["end_reason"] == "commit" for r in commits)
    assert any(r["goal_source"] == "none" and r["goal"] == "" for r in rows)
    # idle gaps longer than 5 minutes always separate episodes
    for r in rows:
        import json

        ts = [s["t"] for s in json.loads(r["steps_json"])]
        assert all(b - a <= 300e6 for a, b in zip(ts, ts[1:]))
    cc2 = convert_trajectories(load_events(FIX / "cc2" / "crowd-code-5f0c2a1e-2025_06_02-14.03.11").events, "x")
    assert [(r["goal"], r["goal_detail"]) for r in cc2 if r["goal"]] == [("add a docstring to hello", "agent_command")]


@pytest.mark.skipif(shutil.which("sed") is None, reason="GNU sed is needed to run the generated commands")
def test_sed_commands_really_produce_the_edit(tmp_path):
    import random

    rng = random.Random(3)
    pool = ["a", "b = 1", "", "it's", "x\\y", "😀 z", "  indent"]
    for i in range(60):
        old = "\n".join(rng.choice(pool) for _ in range(rng.randint(1, 8))) + "\n"
        lines = old.split("\n")[:-1]
        for _ in range(rng.randint(1, 3)):
            op = rng.random()
            pos = rng.randint(0, len(lines))
            if op < 0.4:
                lines.insert(pos, rng.choice(pool))
            elif op < 0.7 and lines:
                del lines[min(pos, len(lines) - 1)]
            elif lines:
                lines[min(pos, len(lines) - 1)] = rng.choice(pool) + "!"
        new = "\n".join(lines) + "\n" if lines else ""
        made = sed_edit("f.txt", old, new)
        if made is None:
            assert old == new
            continue
        target = tmp_path / "f.txt"
        target.write_text(old, encoding="utf-8")
        out = subprocess.run(["bash", "-c", made[0]], cwd=tmp_path, capture_output=True, text=True, timeout=30)
        assert out.returncode == 0, (made[0], out.stderr)
        got = target.read_text(encoding="utf-8")
        assert got == new or (new == "" and got in ("", "\n")), (old, new, made[0])
        assert f"<stdout>\n{out.stdout}</stdout>" == made[1]


def test_sed_conversations_open_with_a_keyframe(recording, qwen):
    rows = convert_sed(load_events(recording).events, "s", qwen, budget=2048, msg_cap=512)
    assert len(rows) > 3
    for r in rows:
        roles = [m["role"] for m in r["messages"]]
        assert roles[0] == "user" and r["messages"][0]["content"].startswith("Goal:")
        assert roles[1] == "assistant"  # never output whose command is in the previous chunk
        assert all(a != b for a, b in zip(roles, roles[1:]))
        assert r["n_tokens"] <= 2048
        assert not r["messages"][1]["content"].startswith("sed -i") or "cat -n" in r["messages"][0]["content"] \
            or r["messages"][1]["content"].split()[-5] in r["messages"][0]["content"]


def _digest(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def test_build_is_deterministic_split_by_session_and_loadable(tmp_path):
    import datasets

    recs = [write_recording(tmp_path / f"r{i}", hours=0.05, seed=100 + i, session_id=f"session-{i:02d}") for i in range(6)]
    cc1 = FIX / "cc1" / "session.csv"
    m1 = build_datasets(recs + [cc1], tmp_path / "out1", val_fraction=0.4, max_tokens=2048)
    build_datasets(list(reversed(recs)) + [cc1], tmp_path / "out2", val_fraction=0.4, max_tokens=2048)
    assert _digest(tmp_path / "out1") == _digest(tmp_path / "out2")
    splits = {s["session_id"]: s["split"] for s in m1["sessions"]}
    assert set(splits.values()) == {"train", "validation"}
    for kind, info in m1["datasets"].items():
        seen: dict[str, set[str]] = {}
        for split in ("train", "validation"):
            if not info["rows"][split]:
                continue
            for fmt, ext in (("json", "jsonl"), ("parquet", "parquet")):
                ds = datasets.load_dataset(fmt, data_files={split: str(tmp_path / "out1" / kind / f"{split}.{ext}")},
                                           split=split)
                assert len(ds) == info["rows"][split]
                seen.setdefault(split, set()).update(ds["session_id"])
        for split, sessions in seen.items():
            assert all(splits[s] == split for s in sessions), kind  # no session crosses the split
    meta = (tmp_path / "out1" / "metadata.json").read_text()
    assert "qwen" in meta and "split_rule" in meta
