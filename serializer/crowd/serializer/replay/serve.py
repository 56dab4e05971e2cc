"""``crowd replay --serve REC``: follow a live recording in the browser over a WebSocket.

One loopback port serves the HTML player (``/``) and a WebSocket (``/ws``). A tailer reads
each segment file from where it stopped and decodes only complete frames, so a frame the
writer is still writing is picked up on the next poll, never half-read. Both URLs need the
random token printed at start (other local users must not read someone's session).

A finished file (a crowd-code import) is read once by the ``load`` function the command
passes in: the importers in ``crowd.serializer.interop`` build on the replay state machine,
so replay importing them back would make the two packages a cycle.
"""
from __future__ import annotations

import asyncio
import json
import secrets
from collections.abc import Callable
from pathlib import Path
from typing import Any

from crowd.format.frames import FILE_MAGIC, Frame, scan_frames
from crowd.format.writer import list_segments

POLL_SECONDS = 0.25
BATCH = 5000

Loader = Callable[[Path], list[dict[str, Any]]]


class RecordingTail:
    """New events of a recording folder that is still being written, poll by poll."""

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)
        self.offsets: dict[Path, int] = {}
        self.problems: list[str] = []

    def poll(self) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        for seg in list_segments(self.folder):
            start = self.offsets.get(seg, len(FILE_MAGIC))
            try:
                data = seg.read_bytes()
            except OSError as exc:
                self.problems.append(f"{seg.name}: {exc}")
                continue
            if len(data) <= start or not data.startswith(FILE_MAGIC):
                continue
            end = start
            for item in scan_frames(data, start):
                if isinstance(item, Frame):
                    out.extend(item.events)
                    end = item.end
                elif not item.torn_tail:
                    self.problems.append(f"{seg.name}@{item.offset}: {item.message}")
                else:
                    break  # an incomplete frame: the writer is mid-write, read it next time
            self.offsets[seg] = end
        return out


class LiveFeed:
    def __init__(self, source: Path, load: Loader) -> None:
        self.events: list[dict[str, Any]] = []
        self.changed = asyncio.Condition()
        self.tail: RecordingTail | None = None
        if Path(source).is_dir() and list_segments(Path(source)):
            self.tail = RecordingTail(Path(source))
        else:  # crowd-code imports are finished files: load once
            self.events = load(Path(source))

    async def run(self) -> None:
        while self.tail is not None:
            new = await asyncio.to_thread(self.tail.poll)
            if new:
                self.events.extend(new)
                async with self.changed:
                    self.changed.notify_all()
            await asyncio.sleep(POLL_SECONDS)


async def serve_async(source: Path, host: str, port: int, token: str, load: Loader,
                      ready: asyncio.Future | None = None) -> None:
    from websockets.asyncio.server import serve as ws_serve
    from websockets.datastructures import Headers
    from websockets.http11 import Response

    from crowd.serializer.replay.html import render_html

    feed = LiveFeed(source, load)
    page = render_html([], title=Path(source).name, live=True).encode("utf-8")

    def authorised(path: str) -> bool:
        from urllib.parse import parse_qs, urlsplit

        got = parse_qs(urlsplit(path).query).get("token", [""])[0]
        return secrets.compare_digest(got, token)

    def process_request(connection, request):
        path = request.path.split("?")[0]
        if not authorised(request.path):
            return connection.respond(403, "missing or wrong token\n")
        if path == "/ws":
            return None
        if path in ("/", "/index.html"):
            return Response(200, "OK", Headers([("Content-Type", "text/html; charset=utf-8"),
                                                ("Content-Length", str(len(page))), ("Cache-Control", "no-store")]), page)
        return connection.respond(404, "not found\n")

    async def handler(ws) -> None:
        sent = 0
        while True:
            if sent < len(feed.events):
                batch = feed.events[sent:sent + BATCH]
                await ws.send(json.dumps({"events": batch}, ensure_ascii=False))
                sent += len(batch)
                continue
            async with feed.changed:
                await feed.changed.wait()

    async with ws_serve(handler, host, port, process_request=process_request, max_size=None) as server:
        actual = server.sockets[0].getsockname()[1] if server.sockets else port
        if ready is not None:
            ready.set_result(actual)
        await feed.run() if feed.tail is not None else await asyncio.Future()


def serve(source: Path, load: Loader, host: str = "127.0.0.1", port: int = 8765) -> int:
    """Serve ``source`` until interrupted; ``load`` reads a finished (non-folder) input."""
    token = secrets.token_urlsafe(16)

    async def main() -> None:
        ready: asyncio.Future = asyncio.get_running_loop().create_future()
        task = asyncio.create_task(serve_async(source, host, port, token, load, ready))
        actual = await ready
        print(f"following {source}: open http://{host}:{actual}/?token={token}", flush=True)
        await task

    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        return 0
    return 0
