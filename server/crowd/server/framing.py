"""The sidecar's stdio framing, read by us rather than by pygls, and one way to parse a message.

WHY not pygls' reader (``pygls.io_.run_async``): measured against a real sidecar (issue 13
item 7), ``Content-Length: 99999999999999`` made it ask ``read`` for 100 TB and the sidecar
exited; ``Content-Length: 2000000000`` or a body shorter than declared waited for bytes that
never came, or read the next message as the rest of this one, so stdio never answered again;
a negative length was silently dropped; and a 980-level nested message raised RecursionError
in ``json.loads`` (the loop thread is already ~20 frames deep) and was never answered.

Here a framing error is reported (log, the server's error handler, a JSON-RPC error answer
when an ``id`` can be found) and reading goes on at the next header:

- a valid JSON body can never hold the raw bytes ``Content-Length: <digits>\\r\\n`` (raw CR is
  not allowed in a JSON string, and the words are no JSON token), so finding them inside a
  body means the declared length was too long: the message ends there and the next begins;
- after a body shorter than declared, the rest is garbage before the next header line and
  is skipped up to the ``Content-Length`` at the end of that line;
- a body over ``MAX_MESSAGE`` (the WebSocket's limit too) is skipped as it streams in,
  never buffered, unless a header inside it shows it was a lie;
- a message too deep for the parser on the loop thread is parsed again on a fresh thread
  (~995 levels fit); deeper ones get a -32700 answer.
"""
from __future__ import annotations

import asyncio
import json
import logging
import re
import threading
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

log = logging.getLogger("crowd.sidecar.framing")

MAX_MESSAGE = 64 * 1024 * 1024     # bytes of one JSON-RPC message (stdio and WebSocket)
MAX_HEADER = 8 * 1024              # bytes of one header block
READ_CHUNK = 1 << 20
PARSE_ERROR = -32700
INVALID_REQUEST = -32600

HEADER_END = b"\r\n\r\n"
# a header line naming the length; raw in a body it proves the body's length was declared too long
HEADER_IN_BODY = re.compile(rb"Content-Length:[ \t]*\d+\r\n", re.IGNORECASE)
LENGTH = re.compile(rb"Content-Length:[ \t]*([^\r\n]*)", re.IGNORECASE)
HEADER_LINES = re.compile(rb"(?:[A-Za-z0-9-]+:[^\r\n]*\r\n)*")
ID_NEAR_START = re.compile(rb'"id"\s*:\s*(-?\d{1,18}|"[^"\\\r\n]{0,200}")')
OVERLAP = 64                         # bytes kept between chunks when scanning for a header


@dataclass
class Body:
    """One message body, as declared."""

    data: bytes


@dataclass
class FramingError:
    """Bytes that were no message; ``fragment`` is the start of what was dropped (for an id)."""

    message: str
    fragment: bytes = b""


Read = Callable[[int], Awaitable[bytes]]


class FrameReader:
    """Splits a byte stream into LSP-framed bodies; errors are returned, never raised."""

    def __init__(self, read: Read, max_message: int = MAX_MESSAGE) -> None:
        self._read = read
        self.max_message = max_message
        self._buf = bytearray()
        self._eof = False

    async def _more(self) -> bool:
        if self._eof:
            return False
        chunk = await self._read(READ_CHUNK)
        if not chunk:
            self._eof = True
            return False
        self._buf += chunk
        return True

    async def next(self) -> Body | FramingError | None:
        """The next body or framing error; None at the end of the stream."""
        while True:
            end = self._buf.find(HEADER_END)
            if end < 0:
                if len(self._buf) > MAX_HEADER:
                    return self._drop_garbage()
                if not await self._more():
                    if self._buf.strip():
                        dropped = bytes(self._buf[:200])
                        self._buf.clear()
                        return FramingError("the stream ended inside a header", dropped)
                    return None
                continue
            block = bytes(self._buf[:end])
            del self._buf[:end + len(HEADER_END)]
            matches = list(LENGTH.finditer(block))
            if not matches:
                return FramingError(f"a header block without Content-Length ({len(block)} bytes) was skipped",
                                    block[:200])
            found = matches[-1]
            value = found.group(1).strip()
            if not value.isdigit() or len(value) > 18:
                return FramingError(f"Content-Length {value[:40]!r} is not a byte count; the message was skipped")
            length = int(value)
            garbage = block[:found.start()]
            if garbage and not HEADER_LINES.fullmatch(garbage):
                # the rest of a body shorter than declared: answered already when it was parsed
                log.warning("framing: %d bytes before a header were skipped", len(garbage))
            if length > self.max_message:
                return await self._skip(length)
            return await self._body(length)

    def _drop_garbage(self) -> FramingError:
        keep = self._buf.rfind(b"Content-Length:")
        cut = keep if keep > 0 else max(0, len(self._buf) - OVERLAP)
        dropped = bytes(self._buf[:cut])
        del self._buf[:cut]
        return FramingError(f"{len(dropped)} bytes that are no header were skipped", dropped[:200])

    async def _body(self, length: int) -> Body | FramingError:
        scanned = 0
        while True:
            window = self._buf[max(0, scanned - OVERLAP):min(len(self._buf), length + OVERLAP)]
            hit = HEADER_IN_BODY.search(window)
            if hit is not None and max(0, scanned - OVERLAP) + hit.start() < length:
                cut = max(0, scanned - OVERLAP) + hit.start()
                fragment = bytes(self._buf[:cut])
                del self._buf[:cut]
                return FramingError(f"Content-Length declared {length} bytes but the next message began after "
                                    f"{cut}; the cut message was skipped", fragment[:4096])
            if len(self._buf) >= length and not self._header_may_follow(length):
                data = bytes(self._buf[:length])
                del self._buf[:length]
                return Body(data)
            scanned = len(self._buf)
            if not await self._more():
                if len(self._buf) >= length:
                    data = bytes(self._buf[:length])
                    del self._buf[:length]
                    return Body(data)
                fragment = bytes(self._buf[:4096])
                self._buf.clear()
                return FramingError(f"the stream ended {length - scanned} bytes short of a declared "
                                    f"{length}-byte message", fragment)

    def _header_may_follow(self, length: int) -> bool:
        """The body's last bytes could be the start of a header the buffer does not hold
        entirely yet (a length declared a few bytes too long, cut by a read): wait and see."""
        for pos in range(max(0, length - len(LENGTH_PREFIX) - 24), length):
            if self._buf[pos] in b"Cc" and _could_become_header(bytes(self._buf[pos:])):
                return True
        return False

    async def _skip(self, length: int) -> FramingError:
        """Discard an oversized body as it streams in (or up to a header inside it)."""
        message = f"a message of {length} bytes exceeds the limit of {self.max_message}; it was skipped"
        remaining, first = length, b""
        while True:
            take = min(remaining, len(self._buf))
            hit = HEADER_IN_BODY.search(self._buf, 0, min(len(self._buf), take + OVERLAP))
            if hit is not None and hit.start() < take:
                first = first or bytes(self._buf[:min(hit.start(), 200)])
                del self._buf[:hit.start()]
                return FramingError(message, first)
            first = first or bytes(self._buf[:200])
            if take == remaining:
                del self._buf[:take]
                return FramingError(message, first)
            keep = min(OVERLAP, take)
            del self._buf[:take - keep]
            remaining -= take - keep
            if not await self._more():
                self._buf.clear()
                return FramingError(message, first)


LENGTH_PREFIX = b"content-length:"


def _could_become_header(data: bytes) -> bool:
    """``data`` is an unfinished ``Content-Length: <digits>\r\n`` line."""
    head = data[:len(LENGTH_PREFIX)].lower()
    if len(data) <= len(LENGTH_PREFIX):
        return LENGTH_PREFIX.startswith(head)
    return head == LENGTH_PREFIX and re.fullmatch(rb"[ \t]*\d*\r?", data[len(LENGTH_PREFIX):]) is not None


def guess_id(fragment: bytes) -> int | str | None:
    """The request id of a message that could not be parsed, when it shows near its start."""
    found = ID_NEAR_START.search(fragment[:4096])
    if found is None:
        return None
    try:
        value = json.loads(found.group(1))
    except ValueError:
        return None
    return value if isinstance(value, (int, str)) else None


def error_frame(msg_id: int | str | None, code: int, message: str) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "id": msg_id, "error": {"code": code, "message": message}}


def parse_message(body: bytes, object_hook: Callable[[dict[str, Any]], Any]) -> Any:
    """``json.loads`` that survives deep nesting: on RecursionError it is tried once more on a
    fresh thread, whose stack starts almost empty. Raises ValueError (with a clear message)
    when the message cannot be parsed at all."""
    try:
        return json.loads(body, object_hook=object_hook)
    except RecursionError:
        pass
    result: list[Any] = []
    failure: list[BaseException] = []

    def parse() -> None:
        try:
            result.append(json.loads(body, object_hook=object_hook))
        except BaseException as exc:  # noqa: BLE001 - handed back to the caller's thread
            failure.append(exc)

    worker = threading.Thread(target=parse, name="crowd-deep-json")
    worker.start()
    worker.join()
    if failure:
        if isinstance(failure[0], RecursionError):
            raise ValueError("the message is nested too deeply to parse") from None
        raise failure[0]
    return result[0]


async def read_stdio(reader: FrameReader, handle: Callable[[Any], None],
                     answer: Callable[[dict[str, Any]], None], object_hook: Callable[[dict[str, Any]], Any],
                     report: Callable[[Exception], None], stop: threading.Event | None = None) -> None:
    """Read framed messages until the end of the stream (or ``stop``): parse each, ``handle``
    it, and ``answer`` framing and parse errors (with the request's id when it can be found)."""
    while stop is None or not stop.is_set():
        item = await reader.next()
        if item is None:
            return
        if isinstance(item, FramingError):
            log.error("framing: %s", item.message)
            answer(error_frame(guess_id(item.fragment), PARSE_ERROR, item.message))
            report(ValueError(item.message))
            continue
        try:
            message = parse_message(item.data, object_hook)
        except ValueError as exc:
            text = f"the message is not valid JSON: {exc}"[:300]
            log.error("framing: %s", text)
            answer(error_frame(guess_id(item.data), PARSE_ERROR, text))
            report(exc)
            continue
        except Exception as exc:  # noqa: BLE001 - e.g. pygls cannot structure it
            log.exception("unable to handle a message")
            answer(error_frame(guess_id(item.data), INVALID_REQUEST, f"{type(exc).__name__}: {exc}"[:300]))
            report(exc)
            continue
        try:
            handle(message)
        except Exception as exc:  # noqa: BLE001 - one bad message must not stop reading
            log.exception("unable to handle a message")
            report(exc)


def stdin_reader(stream: Any, executor: Any = None) -> Read:
    """``read(n)`` for a binary stdin: what is available now (at most ``n`` bytes), off the loop."""
    def read(n: int) -> Awaitable[bytes]:
        return asyncio.get_running_loop().run_in_executor(executor, stream.read1, n)
    return read
