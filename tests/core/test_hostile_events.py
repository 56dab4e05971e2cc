"""Hostile values in editor events, through a real sidecar: nothing acknowledged is lost.

Observed (issue 13, item 1): one acknowledged event with a lone UTF-16 surrogate outside the
document text (``editor_command.command = "\\ud800"``) or an integer beyond 64 bits
(``document_save.version = 10**30``) erased the last frame already on disk and stopped all
writing, while acks went on answering ``recorded: 1``. Here hypothesis mixes such values
(surrogates, huge integers, deep and huge values) into batches of valid edits sent to one
real ``crowd sidecar``; after every batch and a ``crowd/flush`` the recording must open
without problems and hold every valid acknowledged edit, and in the end the acks' ``recorded``
counts must match what is on disk.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings, strategies as st

from crowd.format import read_recording
from crowd.serializer.replay.state import ReplayState
from crowd.server.workspace.folders import path_to_uri
from tests.helpers.editor_events import edit_texts, insert, open_event
from tests.helpers.sidecar import start_recording_sidecar

RECORDED_KINDS = ("edit", "save", "editor_command", "window_focus")   # one per acknowledged event

surrogate_texts = st.text(alphabet=st.one_of(st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF),
                                             st.sampled_from("ab\U0001F600")), min_size=1, max_size=8)
huge_ints = st.one_of(st.sampled_from([10 ** 30, -(10 ** 30), 2 ** 64, -(2 ** 63) - 1, 2 ** 64 - 1]),
                      st.integers(min_value=2 ** 64, max_value=2 ** 300))


def _deep(levels: int) -> Any:
    value: Any = "\ud800"
    for _ in range(levels):
        value = [value]
    return value


hostile_values = st.one_of(
    surrogate_texts, huge_ints,
    st.integers(min_value=2, max_value=300).map(_deep),                 # deep (past the format's limit too)
    st.just(list(range(5_000))), st.just("\ud800" * 50_000),            # huge
    st.dictionaries(surrogate_texts, st.one_of(surrogate_texts, huge_ints), max_size=3),
)


@st.composite
def hostile_events(draw: st.DrawFn, uri: str) -> dict[str, Any]:
    value = draw(hostile_values)
    return draw(st.sampled_from([
        {"kind": "editor_command", "command": value, "phase": "start"},
        {"kind": "editor_command", "command": "editor.action.rename", "phase": value},
        {"kind": "document_save", "uri": uri, "version": value},
        {"kind": "window_focus", "focused": value},
        {"kind": draw(surrogate_texts), "data": value},                  # an unknown kind: rejected
    ]))


def test_hostile_values_lose_no_acknowledged_event(home: Path, workspace: Path) -> None:
    app = workspace / "src" / "app.py"
    uri = path_to_uri(app)
    client = start_recording_sidecar(home, [workspace])
    try:
        assert client.events([open_event(app)], ack=True)["recorded"] == 1
        directory = client.status()["recording"]
        state = {"version": 1, "acked": [], "recorded": 0}

        @settings(max_examples=12, deadline=None, database=None,
                  suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
        @given(layout=st.lists(st.one_of(st.just(None), hostile_events(uri)), min_size=1, max_size=6))
        def batch(layout: list[dict[str, Any] | None]) -> None:
            events, valid = [], []
            for item in layout:
                if item is None:            # a valid edit, with a text no other event has
                    state["version"] += 1
                    text = f"ok{state['version']}z"
                    events.append(insert(app, 0, text, state["version"]))
                    valid.append(text)
                else:
                    events.append(item)
            ack = client.events(events, ack=True)
            assert ack["accepted"] + ack["rejected"] == len(events), ack
            assert ack["recorded"] >= len(valid), ack
            state["recorded"] += ack["recorded"]
            state["acked"] += valid
            client.request("crowd/flush")
            result = read_recording(directory)
            assert result.problems == []
            assert set(state["acked"]) <= set(edit_texts(result.events))

        batch()
        assert client.status()["state"] == "recording"      # it still answers, and records
        assert client.events([insert(app, 0, "lastz", state["version"] + 1)], ack=True)["recorded"] == 1
        stopped = client.request("crowd/stop")
        result = read_recording(stopped["recording"])
        assert result.problems == []
        texts = edit_texts(result.events)
        assert set(state["acked"]) | {"lastz"} <= set(texts)
        on_disk = sum(1 for e in result.events if e["kind"] in RECORDED_KINDS)
        assert on_disk == state["recorded"] + 1              # the acks told the truth
        seqs = [e["seq"] for e in result.events]
        assert seqs == sorted(set(seqs))
        replay = ReplayState()                               # and it still replays
        for event in result.events:
            replay.apply(event)
        final = replay.doc("src/app.py").text
        assert all(text in final for text in state["acked"]) and final.startswith("lastz")
    finally:
        if client.alive:
            client.close()


def test_observed_cases_and_their_acks(start_sidecar, workspace: Path) -> None:
    """The two reported events, and one the format cannot represent: each ack says what was recorded."""
    app = workspace / "src" / "app.py"
    client = start_sidecar([workspace])
    client.events([open_event(app), insert(app, 0, "beforez", 2)], ack=True)
    client.request("crowd/flush")
    ack = client.events([{"kind": "editor_command", "command": "\ud800", "phase": "start"},
                         {"kind": "document_save", "uri": path_to_uri(app), "version": 10 ** 30},
                         {"kind": "editor_command", "command": "x", "phase": _deep(100)}], ack=True)
    assert ack["accepted"] == 3 and ack["recorded"] == 2 and ack["held"] == 0, ack
    assert client.events([insert(app, 0, "afterz", 3)], ack=True)["recorded"] == 1
    result = read_recording(client.request("crowd/stop")["recording"])
    assert result.problems == []
    assert {"beforez", "afterz"} <= set(edit_texts(result.events))
    assert [e["command"] for e in result.events if e["kind"] == "editor_command"] == ["\ufffd"]
    assert [e["version"] for e in result.events if e["kind"] == "save"] == [str(10 ** 30)]
    errors = [e["message"] for e in result.events if e["kind"] == "error"]
    assert any("surrogates" in m and "at command" in m for m in errors)
    assert any("64 bits at version" in m for m in errors)
    assert any("not recordable (nested deeper than" in m and "editor_command" in m for m in errors)
