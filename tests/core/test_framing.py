"""The sidecar's stdio framing under bad Content-Length values and deep JSON (issue 13 item 7).

Observed with pygls' reader: ``Content-Length: 99999999999999`` exited the sidecar,
``2000000000`` or a too-short length hung stdio for good, a negative one vanished without an
answer, a 980-level nested message was never answered. The unit tests feed real byte streams
(cut into random chunks) to ``FrameReader``; the others drive a real ``crowd sidecar``.
"""
from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

from hypothesis import given, settings, strategies as st

from crowd.server.framing import Body, FrameReader, FramingError, error_frame, read_stdio

from tests.helpers.editor_events import edit_texts, insert, open_event


def frame(body: bytes, length: int | str | None = None) -> bytes:
    return b"Content-Length: %s\r\n\r\n" % str(len(body) if length is None else length).encode() + body


def request(msg_id: int, method: str = "crowd/status", params: Any = None) -> bytes:
    return json.dumps({"id": msg_id, "jsonrpc": "2.0", "method": method, "params": params}).encode()


def chunked(data: bytes, cuts: list[int]) -> Any:
    pieces, last = [], 0
    for cut in sorted(set(c % (len(data) + 1) for c in cuts)) + [len(data)]:
        pieces.append(data[last:cut])
        last = cut
    pieces = [p for p in pieces if p]

    async def read(n: int) -> bytes:
        if not pieces:
            return b""
        head = pieces.pop(0)
        if len(head) > n:
            pieces.insert(0, head[n:])
            head = head[:n]
        return head

    return read


def read_all(data: bytes, cuts: list[int], max_message: int = 1 << 20) -> list[Body | FramingError]:
    async def run() -> list[Body | FramingError]:
        reader = FrameReader(chunked(data, cuts), max_message=max_message)
        out = []
        while (item := await reader.next()) is not None:
            out.append(item)
        return out
    return asyncio.run(run())


# each corruption: the bytes sent instead of a well-framed message
CORRUPTIONS = {
    "huge": lambda body: frame(body, 99999999999999),
    "too_long": lambda body: frame(body, 2000000000),
    "longer_by_a_little": lambda body: frame(body, len(body) + 7),
    "too_short": lambda body: frame(body, max(1, len(body) // 2)),
    "negative": lambda body: frame(body, -1),
    "not_a_number": lambda body: frame(body, "12abc"),
    "no_header": lambda body: body + b"\r\n\r\n",
    "garbage": lambda body: b"\x00\xff garbage " + body,
}


@settings(max_examples=150, deadline=None, database=None)
@given(plan=st.lists(st.one_of(st.none(), st.sampled_from(sorted(CORRUPTIONS))), min_size=1, max_size=8),
       cuts=st.lists(st.integers(min_value=0, max_value=10_000), max_size=12))
def test_every_intact_message_survives_its_corrupt_neighbours(plan: list[str | None], cuts: list[int]) -> None:
    data, intact = b"", []
    for i, corruption in enumerate(plan):
        body = request(i, params={"text": "x" * (i * 37)})
        if corruption is None:
            data += frame(body)
            intact.append(body)
        else:
            data += CORRUPTIONS[corruption](body)
    items = read_all(data + frame(request(999)), cuts)
    bodies = [item.data for item in items if isinstance(item, Body)]
    for body in intact + [request(999)]:
        assert body in bodies
    assert bodies[-1] == request(999)
    assert all(not isinstance(item, Body) or item.data in intact + [request(999)] or _bad_json(item.data)
               for item in items)


def _bad_json(data: bytes) -> bool:
    try:
        json.loads(data)
    except ValueError:
        return True
    return False


def test_oversized_message_is_skipped_without_buffering_it() -> None:
    big = request(1, params={"text": "x" * 3_000_000})
    items = read_all(frame(big) + frame(request(2)), [], max_message=1 << 20)
    assert isinstance(items[0], FramingError) and "exceeds the limit" in items[0].message
    assert [i.data for i in items if isinstance(i, Body)] == [request(2)]


def test_answers_carry_the_id_when_it_can_be_found() -> None:
    answers: list[dict[str, Any]] = []
    handled: list[Any] = []
    deep = b'{"id":7,"jsonrpc":"2.0","method":"crowd/events","params":{"events":[{"kind":"x","v":' \
        + b"[" * 5000 + b"]" * 5000 + b"}]}}"
    data = (frame(request(3), 2000000000)[:-5] + frame(request(4)) + frame(deep)
            + frame(b'{"id":5,"jsonrpc":"2.0",', 10) + frame(request(6)))
    reader = FrameReader(chunked(data, [17, 300]))
    asyncio.run(read_stdio(reader, handle=handled.append, answer=answers.append, object_hook=lambda d: d,
                           report=lambda exc: None))
    assert [m["id"] for m in handled] == [4, 6]
    assert [a["id"] for a in answers][:2] == [3, 7]
    assert all(a["error"]["code"] == -32700 for a in answers)
    assert answers == [a for a in answers if a == error_frame(a["id"], -32700, a["error"]["message"])]


def test_980_levels_parse_and_deeper_get_an_answer(start_sidecar, workspace: Path) -> None:
    client = start_sidecar([workspace])
    app = workspace / "src" / "app.py"
    client.events([open_event(app)], ack=True)
    edit = json.dumps(insert(app, 0, "afterdeepz", 2)).encode()
    client.send_raw(frame(b'{"jsonrpc":"2.0","method":"crowd/events","params":{"events":['
                          b'{"kind":"editor_command","command":"x","phase":' + b"[" * 980 + b"]" * 980
                          + b"}," + edit + b"]}}"))
    assert client.events([], ack=True)["accepted"] == 0        # answered after the deep one
    client.send_raw(frame(b'{"jsonrpc":"2.0","method":"crowd/events","params":{"events":[{"kind":"x","v":'
                          + b"[" * 50_000 + b"]" * 50_000 + b"}]}}"))
    client.wait_for_log("nested too deeply")
    assert client.status()["state"] == "recording"
    events = _events(client.request("crowd/stop")["recording"])
    assert "afterdeepz" in edit_texts(events)
    assert any("nested deeper than" in e.get("message", "") for e in events if e["kind"] == "error")


def test_bad_lengths_against_a_real_sidecar(start_sidecar, workspace: Path) -> None:
    client = start_sidecar([workspace])
    app = workspace / "src" / "app.py"
    client.events([open_event(app)], ack=True)
    version = 1
    for name, corrupt in CORRUPTIONS.items():
        client.send_raw(corrupt(request(100 + version)))
        version += 1
        text = f"after{name}z"
        ack = client.events([insert(app, 0, text, version)], ack=True, timeout=30)
        assert ack["recorded"] == 1, (name, ack)
    assert client.status()["state"] == "recording"
    assert any("framing:" in line for line in client.log)
    result = client.request("crowd/stop")
    texts = edit_texts(_events(result["recording"]))
    assert {f"after{name}z" for name in CORRUPTIONS} <= set(texts)


def test_stream_ending_inside_a_message_exits_cleanly(start_sidecar, workspace: Path) -> None:
    client = start_sidecar([workspace])
    app = workspace / "src" / "app.py"
    client.events([open_event(app), insert(app, 0, "lastz", 2)], ack=True)
    directory = client.status()["recording"]
    client.send_raw(frame(request(50), 5000)[:200])
    client.proc.stdin.close()
    assert client.proc.wait(30) == 0
    assert any("the stream ended" in line for line in client.log)
    events = _events(directory)
    assert "lastz" in edit_texts(events) and events[-1]["kind"] == "stop"


def _events(directory: str) -> list[dict[str, Any]]:
    from crowd.format import read_recording  # noqa: PLC0415
    result = read_recording(directory)
    assert result.problems == []
    return result.events
