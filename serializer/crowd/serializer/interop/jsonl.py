"""Every event of a recording as one JSON object per line, losslessly (``crowd export --jsonl``).

Why: jq, pandas and ad-hoc checks read JSON lines, not zstd+msgpack frames, and a check is
only worth something if what it reads is exactly what was recorded. A recording's events
are msgpack values, and three of those have no JSON spelling: ``bytes``, maps whose keys
are not strings, and the floats NaN/±Infinity. Each is written as a one-key tagged object,
and a real map that happens to look like a tag (one key starting with ``$``) is tagged too,
so ``read_jsonl(write_jsonl(events)) == events`` for every event the format can hold
(hypothesis checks it in tests/interop/test_jsonl.py):

- ``{"$bytes": "<base64>"}`` for ``bytes``;
- ``{"$map": [[key, value], ...]}`` for a map with a non-string key or a tag-like key;
- ``{"$float": "nan" | "inf" | "-inf"}`` for the non-finite floats.

Strings are written with ``ensure_ascii`` so a line is plain ASCII whatever the editor sent
(the pipeline has already replaced lone surrogates, see ``crowd.pipeline.values``).
"""
from __future__ import annotations

import base64
import json
import math
from collections.abc import Iterable, Iterator
from typing import Any, TextIO

_TAGS = ("$bytes", "$map", "$float")


class JsonlError(ValueError):
    """A line that is not one JSON object of this format (the message names the line)."""


def to_json_value(value: Any) -> Any:
    """``value`` with every msgpack-only part replaced by its tagged JSON form."""
    if isinstance(value, bool) or value is None or isinstance(value, (int, str)):
        return value
    if isinstance(value, float):
        if math.isfinite(value):
            return value
        return {"$float": "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")}
    if isinstance(value, (bytes, bytearray, memoryview)):
        return {"$bytes": base64.b64encode(bytes(value)).decode("ascii")}
    if isinstance(value, dict):
        plain = all(type(k) is str for k in value) and not (
            len(value) == 1 and next(iter(value)).startswith("$"))
        if plain:
            return {k: to_json_value(v) for k, v in value.items()}
        return {"$map": [[to_json_value(k), to_json_value(v)] for k, v in value.items()]}
    if isinstance(value, (list, tuple)):
        return [to_json_value(v) for v in value]
    raise TypeError(f"a {type(value).__name__} cannot be in a recording")


def from_json_value(value: Any) -> Any:
    """The inverse of ``to_json_value``."""
    if isinstance(value, list):
        return [from_json_value(v) for v in value]
    if not isinstance(value, dict):
        return value
    if len(value) == 1:
        (key, inner), = value.items()
        if key == "$bytes":
            return base64.b64decode(inner, validate=True)
        if key == "$float":
            return float(inner)
        if key == "$map":
            return {_hashable(from_json_value(k)): from_json_value(v) for k, v in inner}
    return {k: from_json_value(v) for k, v in value.items()}


def _hashable(key: Any) -> Any:
    """A msgpack map key read back: a list key (msgpack allows it) becomes a tuple."""
    return tuple(_hashable(k) for k in key) if isinstance(key, list) else key


def event_line(event: dict[str, Any]) -> str:
    """One event as one line of ASCII JSON (no trailing newline)."""
    return json.dumps(to_json_value(event), ensure_ascii=True, separators=(",", ":"),
                      allow_nan=False)


def write_jsonl(events: Iterable[dict[str, Any]], out: TextIO) -> int:
    """Write ``events`` one per line to ``out``; returns how many were written."""
    count = 0
    for event in events:
        out.write(event_line(event))
        out.write("\n")
        count += 1
    return count


def read_jsonl(lines: Iterable[str]) -> Iterator[dict[str, Any]]:
    """Events back from lines written by ``write_jsonl`` (blank lines are skipped)."""
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            event = from_json_value(json.loads(line))
        except (ValueError, TypeError) as exc:
            raise JsonlError(f"line {number}: not a crowd JSON line ({type(exc).__name__})") from None
        if not isinstance(event, dict):
            raise JsonlError(f"line {number}: not a JSON object")
        yield event
