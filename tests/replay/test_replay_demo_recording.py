"""The replayer, exporter and token sequences on a recording made by the real sidecar (`crowd demo`)."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest

from crowd.serializer.interop.cc2_export import export_cc2, to_cc2_events
from crowd.serializer.interop.cc2_import import import_cc2
from crowd.serializer.interop.load import load_events
from crowd.serializer.replay.state import ReplayState


@pytest.fixture(scope="module")
def demo_recording(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo")
    env = {**os.environ, "CROWD_HOME": str(tmp_path_factory.mktemp("home"))}  # nothing in the real home
    proc = subprocess.run([sys.executable, "-m", "crowd.cli", "demo", "--out", str(out)],
                          capture_output=True, text=True, timeout=240, env=env)
    recs = [p for p in out.iterdir() if p.is_dir() and any(p.glob("seg-*.crowd"))]
    assert recs, f"crowd demo wrote no recording (rc {proc.returncode}): {proc.stderr[-2000:]}"
    return recs[0]


def test_demo_viewports_equal_the_replayed_buffers(demo_recording):
    loaded = load_events(demo_recording)
    state = ReplayState()
    checked = 0
    for ev in loaded.events:
        state.apply(ev)
        if ev["type"] == "observation" and ev["kind"] == "viewport":
            for ed in ev["editors"]:
                assert state.visible_text(ed) == ed["text"], (ev["seq"], ed["file"])
                checked += 1
    assert checked >= 1


def test_demo_exports_to_cc2_and_back(demo_recording, tmp_path):
    events = load_events(demo_recording).events
    res = export_cc2(events, tmp_path)
    back, problems = import_cc2(res.folder)
    assert problems == []
    assert to_cc2_events(back)[0] == to_cc2_events(events)[0]


def test_demo_token_sequences_are_append_only(demo_recording):
    from crowd.serializer.dataset.next_action import sequence_chunks
    from crowd.serializer.dataset.tokenizer import QwenCounter

    events = load_events(demo_recording).events
    qwen = QwenCounter()
    for k in range(1, len(events), max(1, len(events) // 40)):
        a = sequence_chunks(events[:k], qwen, 400)
        b = sequence_chunks(events[:k + 1], qwen, 400)
        for x, y in zip(a[:-1], b):
            assert x["input_ids"] == y["input_ids"]
        if a:
            assert b[len(a) - 1]["input_ids"][:len(a[-1]["input_ids"])] == a[-1]["input_ids"]


def test_demo_agent_pairs_carry_the_prompt_of_the_command_that_ran_the_agent(demo_recording):
    """The agent's command line event is written when it ends, after the agent's changes;
    the prompt must still be attached to the changes it caused."""
    from crowd.serializer.dataset.common import agent_command
    from crowd.serializer.dataset.pairs import convert_pairs

    events = load_events(demo_recording).events
    runs = [(e["start_t"], e["end_t"], agent_command(e["command"])[1]) for e in events
            if e["kind"] == "terminal_command" and agent_command(e.get("command") or "") and e.get("start_t")]
    pairs = convert_pairs(events, "demo")
    if not runs:
        pytest.skip("this crowd demo runs no CLI agent command")
    checked = 0
    for row in pairs:
        for start, end, prompt in runs:
            if start <= row["start_t"] <= end:
                assert row["prompt"] == prompt and row["prompt_source"] == "agent_command"
                checked += 1
    assert checked >= 1
