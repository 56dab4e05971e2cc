"""Unbounded resources and malformed protocol events against a real sidecar (issue 13 item 7).

Observed: ``terminal_open`` with ``cols: 1e308`` (accepted before consent) took the sidecar past
3 GB until it stopped answering; a viewport with 20,000 ``visibleRanges`` reached ~3 GB; one
malformed range or a list ``kind`` failed the whole batch with -32603. Sizes are now bounded
where they enter (terminal tracker, viewport ranges) and one event never fails its batch.
The hypothesis test sends valid and mutated batches to one real sidecar and checks after
each: it answers, its memory stays bounded, every valid acknowledged edit is on disk after a
flush, and the recording opens.
"""
from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings, strategies as st

from crowd.format import read_recording
from crowd.server.client import SidecarClient
from crowd.server.terminal.tracker import MAX_COLS, MAX_ROWS
from crowd.server.workspace.folders import path_to_uri

from tests.helpers.editor_events import edit_texts, insert, open_event
from tests.helpers.sidecar import start_recording_sidecar

RSS_GROWTH_LIMIT_MB = 400      # the observed failures grew by 3,000 MB; a healthy batch by < 50


def rss_mb(client: SidecarClient) -> float:
    """The sidecar process's resident memory (Linux /proc), in MiB."""
    for line in Path(f"/proc/{client.proc.pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


def test_huge_terminal_sizes_before_consent_are_bounded(home: Path, workspace: Path) -> None:
    client = start_recording_sidecar(home, [workspace], consent=None)
    try:
        before = rss_mb(client)
        ack = client.events([
            {"kind": "terminal_open", "terminal": "t1", "name": "bash", "rows": 1e308, "cols": 1e308},
            {"kind": "terminal_data", "terminal": "t1", "data": "hello\r\n" * 200},
            {"kind": "terminal_resize", "terminal": "t1", "rows": 10 ** 30, "cols": -5},
            {"kind": "terminal_open", "terminal": "t2", "rows": "many", "cols": math.nan},
            {"kind": "terminal_data", "terminal": "t3", "rows": 1e300, "cols": 1e300, "data": "x"},
        ], ack=True, timeout=30)
        assert ack["accepted"] == 5, ack
        client.wait_for(lambda: set(client.status().get("terminals", {})) == {"t1", "t2", "t3"}, 30, "terminals")
        terminals = client.status()["terminals"]
        assert terminals["t1"]["rows"] == MAX_ROWS and terminals["t1"]["cols"] == MAX_COLS
        assert (terminals["t2"]["rows"], terminals["t2"]["cols"]) == (24, 80)
        assert terminals["t3"]["cols"] == MAX_COLS
        assert rss_mb(client) - before < RSS_GROWTH_LIMIT_MB
        assert client.status()["state"] == "awaiting_consent"
    finally:
        client.close()


def test_viewport_with_20000_ranges_is_bounded(start_sidecar, workspace: Path) -> None:
    app = workspace / "src" / "big.py"
    app.write_text("".join(f"line {i}\n" for i in range(1000)))
    client = start_sidecar([workspace])
    client.events([open_event(app)], ack=True)
    before = rss_mb(client)
    ranges = [[0, 999]] * 10_000 + [[i, i + 1] for i in range(0, 20_000, 2)]
    ack = client.events([{"kind": "viewport", "editors": [{"uri": path_to_uri(app), "visibleRanges": ranges,
                                                            "selections": []}]}], ack=True, timeout=60)
    assert ack["recorded"] == 1, ack
    assert rss_mb(client) - before < RSS_GROWTH_LIMIT_MB
    events = read_recording(client.request("crowd/stop")["recording"]).events
    viewport = [e for e in events if e["kind"] == "viewport"][-1]["editors"][0]
    assert viewport["visible_ranges"] == [[0, 999]]
    assert viewport["text"].count("\n") == 999


def test_one_malformed_range_or_kind_fails_only_itself(start_sidecar, workspace: Path) -> None:
    app = workspace / "src" / "app.py"
    client = start_sidecar([workspace])
    client.events([open_event(app)], ack=True)
    uri = path_to_uri(app)
    ack = client.events([
        {"kind": []},
        {"kind": {"a": 1}},
        {"kind": "viewport", "editors": [{"uri": uri, "visibleRanges": [[1], [1e308, 2], ["a", "b"], [0, 1],
                                                                        {"start": 5}, [math.inf, 1]]}]},
        {"kind": "viewport", "editors": [7, {"uri": ["x"]}, {"uri": uri, "visibleRanges": "all"}]},
        {"kind": "selection", "uri": uri, "selections": [{"anchor": 1e308, "active": 0}]},
        insert(app, 0, "survivedz", 2),
    ], ack=True)
    assert ack["accepted"] + ack["rejected"] == 6 and ack["rejected"] >= 2, ack
    events = read_recording(client.request("crowd/stop")["recording"]).events
    assert "survivedz" in edit_texts(events)
    assert [e["editors"][0]["visible_ranges"] for e in events if e["kind"] == "viewport"][0] == [[0, 1]]


# -- hypothesis: valid and mutated batches --------------------------------------------------
hostile = st.one_of(
    st.sampled_from([None, True, -1, 0, 1e308, -1e308, math.inf, math.nan, 10 ** 30, -(10 ** 30), 2 ** 64,
                     "", "\ud800", "x" * 100_000, [], {}, [[[[]]]], {"line": "a"}]),
    st.integers(), st.floats(), st.text(max_size=20),
    st.just(list(range(20_000))), st.just([[0, 10 ** 9]] * 5_000),
    st.lists(st.integers(), max_size=5), st.dictionaries(st.text(max_size=5), st.integers(), max_size=3),
)


def templates(other: str, app: str) -> list[dict[str, Any]]:
    """One valid event of each kind the protocol has (docs/protocol.md); ``other`` is the
    document mutated events may edit, ``app`` the one that receives the valid edits."""
    return [
        {"kind": "document_change", "uri": other, "version": 3,
         "changes": [{"offset": 0, "length": 0, "text": "m"}], "reason": None},
        {"kind": "selection", "uri": app, "selections": [{"anchor": 0, "active": 1}]},
        {"kind": "viewport", "editors": [{"uri": app, "visibleRanges": [[0, 3]], "selections": [],
                                          "active": True}]},
        {"kind": "document_save", "uri": app, "version": 1},
        {"kind": "active_editor", "uri": app, "previous": other},
        {"kind": "editor_command", "command": "editor.action.formatDocument", "phase": "start"},
        {"kind": "window_focus", "focused": True},
        {"kind": "file_op", "op": "create", "files": [other]},
        {"kind": "terminal_open", "terminal": "fz", "name": "bash", "rows": 24, "cols": 80},
        {"kind": "terminal_resize", "terminal": "fz", "rows": 30, "cols": 100},
        {"kind": "terminal_data", "terminal": "fz", "data": "ls\r\n"},
        {"kind": "terminal_close", "terminal": "fz", "exitCode": 0},
    ]


@st.composite
def mutated(draw: st.DrawFn, base: list[dict[str, Any]]) -> Any:
    event = dict(draw(st.sampled_from(base)))
    how = draw(st.sampled_from(["field", "field", "drop", "kind", "whole", "nested"]))
    if how == "field":
        event[draw(st.sampled_from(sorted(event)))] = draw(hostile)
    elif how == "drop":
        event.pop(draw(st.sampled_from(sorted(k for k in event if k != "kind") or ["kind"])), None)
    elif how == "kind":
        event["kind"] = draw(st.one_of(hostile, st.sampled_from(["terminal_input", "nope", "KIND"])))
    elif how == "nested":
        for key, value in event.items():
            if isinstance(value, list) and value and isinstance(value[0], dict):
                inner = dict(value[0])
                inner[draw(st.sampled_from(sorted(inner)))] = draw(hostile)
                event[key] = [inner]
                break
    else:
        return draw(hostile)
    return event


def test_valid_and_mutated_batches_against_a_real_sidecar(home: Path, workspace: Path) -> None:
    app, other = workspace / "src" / "app.py", workspace / "src" / "other.py"
    other.write_text("other\n")
    client = start_recording_sidecar(home, [workspace])
    try:
        client.events([open_event(app, "a\nb\nc\nd\n"), open_event(other)], ack=True)
        directory = client.status()["recording"]
        base = templates(path_to_uri(other), path_to_uri(app))
        start_rss = rss_mb(client)
        state = {"version": 1, "acked": []}

        @settings(max_examples=15, deadline=None, database=None,
                  suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
        @given(layout=st.lists(st.one_of(st.none(), st.sampled_from(base), mutated(base)), min_size=1, max_size=8))
        def batch(layout: list[Any]) -> None:
            events, valid = [], []
            for item in layout:
                if item is None:           # a valid edit of app.py with a text no other event has
                    state["version"] += 1
                    text = f"valid{state['version']}z"
                    events.append(insert(app, 0, text, state["version"]))
                    valid.append(text)
                else:
                    events.append(item)
            ack = client.events(events, ack=True, timeout=60)
            assert ack["accepted"] + ack["rejected"] == len(events), ack
            state["acked"] += valid
            client.request("crowd/flush")
            result = read_recording(directory)
            assert result.problems == []
            assert set(state["acked"]) <= set(edit_texts(result.events))
            assert rss_mb(client) - start_rss < RSS_GROWTH_LIMIT_MB

        batch()
        assert client.status()["state"] == "recording"
    finally:
        if client.alive:
            client.close()
    result = read_recording(directory)
    assert result.problems == [] and result.events[-1]["kind"] == "stop"
    assert set(state["acked"]) <= set(edit_texts(result.events))
