"""A new sidecar continues its editor window's session (issue 17 item 4), through real
sidecar processes over real pipes: one recording folder, one seq and t order, one session
header, panic reaching the earlier segments; and what is never continued."""
from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from crowd.format.schema import validate_event
from crowd.server.client import SidecarClient
from crowd.server.continuation import Continuation, find_continuation

from tests.helpers.editor_events import edit_texts, insert, open_event, recorded


@pytest.fixture
def sidecars(home: Path) -> Iterator[list[SidecarClient]]:
    started: list[SidecarClient] = []
    yield started
    for client in started:
        if client.alive:
            client.close()


def _start(sidecars: list[SidecarClient], home: Path, workspace: Path, continue_session: str | None = None
           ) -> SidecarClient:
    client = SidecarClient(env={"CROWD_HOME": str(home)})
    sidecars.append(client)
    client.initialize([workspace], consent=True, continue_session=continue_session)
    client.wait_for(lambda: client.status()["state"] == "recording", 30, "recording")
    return client


def _check_one_order(events: list[dict]) -> None:
    for event in events:
        validate_event(event)
    assert [e["seq"] for e in events] == list(range(1, len(events) + 1))
    ts = [e["t"] for e in events]
    assert ts == sorted(ts)


def test_a_reloaded_window_continues_its_session(sidecars, home: Path, workspace: Path) -> None:
    app = workspace / "src" / "app.py"
    first = _start(sidecars, home, workspace)
    first.events([open_event(app), insert(app, 0, "ONE", 2)], ack=True)
    session_id = first.status()["sessionId"]
    first.close()

    second = _start(sidecars, home, workspace, continue_session=session_id)
    status = second.status()
    assert status["sessionId"] == session_id
    second.events([open_event(app, version=2), insert(app, 3, "TWO", 3)], ack=True)
    second.request("crowd/flush")
    counts = second.status()
    assert counts["events"] == counts["eventsWritten"] > 0, "the status counts this process's events, as the bridge compares"
    directory = second.request("crowd/stop")["recording"]
    assert Path(directory).name == session_id
    assert sorted(p.name for p in (home / "recordings").iterdir() if p.is_dir()) == [session_id]

    events = recorded(directory)
    _check_one_order(events)
    assert edit_texts(events) == ["ONE", "TWO"]
    session = [(e["kind"], e.get("continued")) for e in events if e["type"] == "session"]
    assert session == [("start", None), ("consent", None), ("stop", None),
                       ("resume", True), ("consent", None), ("stop", None)]
    resume = next(e for e in events if e["kind"] == "resume")
    assert resume["folders"] == [workspace.name] and resume["client"]["name"] == "crowd-scripted-client"


def test_a_killed_sidecar_s_session_is_continued_after_its_last_whole_frame(sidecars, home: Path,
                                                                            workspace: Path) -> None:
    app = workspace / "src" / "app.py"
    first = _start(sidecars, home, workspace)
    first.events([open_event(app), insert(app, 0, "ONE", 2)], ack=True)
    first.request("crowd/flush")
    session_id = first.status()["sessionId"]
    first.kill()   # its folder lock goes with it

    second = _start(sidecars, home, workspace, continue_session=session_id)
    assert second.status()["sessionId"] == session_id
    second.events([open_event(app, version=2), insert(app, 3, "TWO", 3)], ack=True)
    events = recorded(second.request("crowd/stop")["recording"])
    _check_one_order(events)
    assert edit_texts(events) == ["ONE", "TWO"]


def test_panic_after_a_continuation_deletes_the_earlier_part_too(sidecars, home: Path, workspace: Path) -> None:
    app = workspace / "src" / "app.py"
    first = _start(sidecars, home, workspace)
    first.events([open_event(app), insert(app, 0, "BEFORE", 2)], ack=True)
    session_id = first.status()["sessionId"]
    first.close()

    second = _start(sidecars, home, workspace, continue_session=session_id)
    second.events([open_event(app, version=2), insert(app, 6, "AFTER", 3)], ack=True)
    second.request("crowd/flush")
    result = second.request("crowd/panic", {"minutes": 5})
    assert result["removed"] > 0
    directory = second.request("crowd/stop")["recording"]
    events = recorded(directory)
    assert edit_texts(events) == []
    assert not any("BEFORE" in str(e) or "AFTER" in str(e) for e in events)
    assert [e["kind"] for e in events[:2]] == ["start", "consent"]   # the header stays


@pytest.mark.parametrize("wanted", ["19990101-000000-abcdef", "../recordings", "not-a-session", 42])
def test_what_is_not_continued_starts_a_new_session(sidecars, home: Path, workspace: Path, wanted) -> None:
    """Another day's session, a name that is not a session id, a value of the wrong type."""
    old = home / "recordings" / "19990101-000000-abcdef"
    old.mkdir(parents=True)
    client = SidecarClient(env={"CROWD_HOME": str(home)})
    sidecars.append(client)
    client.initialize([workspace], consent=True, continue_session=wanted)
    client.wait_for(lambda: client.status()["state"] == "recording", 30, "recording")
    status = client.status()
    assert status["sessionId"] != wanted and Path(status["recording"]).parent == home / "recordings"
    assert not any(old.iterdir())


def test_a_session_another_live_sidecar_writes_is_not_shared(sidecars, home: Path, workspace: Path) -> None:
    """Two windows of one workspace: the second cannot take the first's folder (its flock)."""
    first = _start(sidecars, home, workspace)
    session_id = first.status()["sessionId"]
    second = _start(sidecars, home, workspace, continue_session=session_id)
    assert second.status()["sessionId"] != session_id
    assert first.status()["sessionId"] == session_id and first.status()["state"] == "recording"


def test_a_deleted_recording_is_not_continued(sidecars, home: Path, workspace: Path, tmp_path: Path) -> None:
    assert find_continuation(home / "recordings", time.strftime("%Y%m%d-000000-abcdef")) is None
    today = time.strftime("%Y%m%d")
    assert find_continuation(tmp_path, f"{today}-000000-abcdef", today="20000101") is None


def test_the_clock_counts_the_gap() -> None:
    cont = Continuation("x", Path("x"), last_seq=9, last_t=5_000_000, last_wall=1_000_000)
    # 2 s later on the wall clock: the next t is 5 s + 2 s after the old origin
    t0 = cont.t0_ns(now_mono_ns=100_000_000_000, now_wall_ms=1_002_000)
    assert (100_000_000_000 - t0) // 1000 == 7_000_000
    # a wall clock that went back never makes t go back
    t0 = cont.t0_ns(now_mono_ns=100_000_000_000, now_wall_ms=999_000)
    assert (100_000_000_000 - t0) // 1000 == 5_000_000
