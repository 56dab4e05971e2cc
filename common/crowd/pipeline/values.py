"""Fitting an event to what the recording format can carry, before anything is written.

Editor events arrive as JSON, and JSON can hold values msgpack cannot: a lone UTF-16
surrogate (``"\\ud800"``: valid JSON, not encodable as UTF-8), an integer beyond 64 bits
(``10**30``), or nesting deep enough to break the readers' recursive walks. One such value
in one field used to make the writer fail on the whole frame, cut the file back to a stale
offset (erasing frames it had already acknowledged) and retry the same frame forever.
Checking each recorder's fields by hand would miss the next field, so the pipeline passes
every event through ``fit_event`` once, and the writer's encoder never sees such a value.

What happens to each (documented in docs/format.md, "Values"):

- a lone surrogate in any string, dict keys included, becomes U+FFFD (one UTF-16 unit,
  like the surrogate, so offsets into the text stay valid); a key that then collides with a
  sibling gets further U+FFFD appended, so no value is overwritten;
- an integer outside int64/uint64 becomes its decimal string: the event (an edit, say) is
  kept, since dropping it would break every later replay step, and the odd field is
  visible as a string instead of silently clamped;
- an event nested deeper than ``MAX_DEPTH``, holding a value msgpack has no type for, or
  whose ``t``/``wall`` is not a 64-bit integer (an importer's float is let through) is refused (``Unrecordable``); the pipeline
  writes a ``session``/``error`` event in its place.

Each repair is listed (field path and what was done) so the pipeline can write one
``session``/``error`` note after the repaired event. A clean event (nearly all of them) is
checked in one walk without copying and returned as is.
"""
from __future__ import annotations

import re
from typing import Any

from crowd.format.schema import INT_MAX, INT_MIN, MAX_DEPTH
from crowd.text.utf16 import clean_text

MAX_REPAIRS_LISTED = 3        # in the note
MAX_REPAIRS_KEPT = 100        # described at all: a huge list of bad strings is counted, not listed
_KEY_SHOWN = 40               # characters of a key shown in a field path
_PATH_SHOWN = 200             # characters of a field path shown in a message


class Unrecordable(ValueError):
    """The event cannot be represented in the format; the message names the field (never
    its value, which could be anything the editor sent)."""


def fit_event(event: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """``event`` as the format can carry it, and the repairs made (empty: the same object).

    Raises ``Unrecordable`` when no faithful representation exists (see the module docstring).
    """
    for key in ("t", "wall"):
        # readers order and subtract these: a string in their place would break every replay
        if key in event and not (fits_int(event[key]) or type(event[key]) is float):
            raise Unrecordable(f"{key} is not a 64-bit integer")
    if _clean(event, 1):
        return event, []
    repairs = _Repairs()
    fitted = _fit(event, 1, (), repairs)
    return fitted, repairs.as_list()


def repair_message(event: dict[str, Any], repairs: list[str]) -> str:
    """The text of the ``session``/``error`` note written after a repaired event."""
    shown = "; ".join(repairs[:MAX_REPAIRS_LISTED])
    more = f"; and {len(repairs) - MAX_REPAIRS_LISTED} more" if len(repairs) > MAX_REPAIRS_LISTED else ""
    return f"a {event_label(event)} event was recorded with repairs: {shown}{more}"


def event_label(event: dict[str, Any]) -> str:
    """``type/kind`` for a message; a part that is not a short printable ASCII string is ``?``
    (an imported or refused event's type/kind can be anything)."""
    return f"{_label(event.get('type'))}/{_label(event.get('kind'))}"


def fits_int(value: Any) -> bool:
    """True for an ``int`` the format carries (int64/uint64)."""
    return type(value) is int and INT_MIN <= value <= INT_MAX


def _label(value: Any) -> str:
    if isinstance(value, str) and len(value) <= _KEY_SHOWN and value.isascii() and value.isprintable():
        return value
    return "?"


# -- the check: one walk, no copies, no paths ------------------------------------------------
def _clean(value: Any, depth: int) -> bool:
    """True if ``value`` (at nesting level ``depth``) needs no repair and can be written.
    Scalars inside containers are checked inline: terminal screens hold hundreds of them."""
    kind = type(value)
    if kind is dict:
        if depth > MAX_DEPTH:
            return False
        for key, item in value.items():
            if not _clean_key(key):
                return False
            kind = type(item)
            if kind is str:
                if not item.isascii() and clean_text(item)[1]:
                    return False
            elif kind is int:
                if not INT_MIN <= item <= INT_MAX:
                    return False
            elif not (kind is bool or item is None or kind is float) and not _clean(item, depth + 1):
                return False
        return True
    if kind is list or kind is tuple:
        if depth > MAX_DEPTH:
            return False
        for item in value:
            kind = type(item)
            if kind is str:
                if not item.isascii() and clean_text(item)[1]:
                    return False
            elif kind is int:
                if not INT_MIN <= item <= INT_MAX:
                    return False
            elif not (kind is bool or item is None or kind is float) and not _clean(item, depth + 1):
                return False
        return True
    if kind is str:
        return value.isascii() or not clean_text(value)[1]
    if kind is int:
        return INT_MIN <= value <= INT_MAX
    # anything else (subclasses, foreign types) is False: the slow path converts or refuses it
    return kind is float or kind is bool or value is None or kind is bytes


def _clean_key(key: Any) -> bool:
    """Keys must be scalars: a reader cannot rebuild a map keyed by a list."""
    kind = type(key)
    if kind is str:
        return key.isascii() or not clean_text(key)[1]
    if kind is int:
        return INT_MIN <= key <= INT_MAX
    return kind is float or kind is bool or key is None or kind is bytes


# -- the repair: only for events the check failed ---------------------------------------------
_PLAIN_KEY = re.compile(r"[a-z_]{1,24}")


def _path_text(path: tuple[Any, ...]) -> str:
    """``editors[0].text``. The note that quotes it is not scrubbed, so a key is shown only
    when it is a plain lowercase name (field names like these); other keys, which come from
    the data and could be anything, secrets included, show as ``?``."""
    text = ""
    for depth, part in enumerate(path):
        if type(part) is int:
            text += f"[{part}]"
        else:
            plain = isinstance(part, str) and (_PLAIN_KEY.fullmatch(part) is not None
                                               or (depth == 0 and part.isidentifier() and part.isascii()
                                                   and len(part) <= _KEY_SHOWN))
            text += ("." if text else "") + (part if plain else "?")
    text = text or "the event"
    return text if len(text) <= _PATH_SHOWN else "..." + text[-_PATH_SHOWN:]


class _Repairs:
    """The first ``MAX_REPAIRS_KEPT`` repairs described (building a path costs), the rest counted."""

    def __init__(self) -> None:
        self.kept: list[str] = []
        self.more = 0

    def full(self) -> bool:
        if len(self.kept) < MAX_REPAIRS_KEPT:
            return False
        self.more += 1
        return True

    def as_list(self) -> list[str]:
        return self.kept + ([f"{self.more} more repairs of the same kinds"] if self.more else [])


def _fit(value: Any, depth: int, path: tuple[Any, ...], repairs: _Repairs) -> Any:
    if isinstance(value, bool) or value is None:
        return value if type(value) is bool or value is None else bool(value)
    if isinstance(value, str):
        text = str.__str__(value)
        fixed, changed = clean_text(text)
        if changed and not repairs.full():
            repairs.kept.append(f"lone UTF-16 surrogates replaced by U+FFFD at {_path_text(path)}")
        return fixed
    if isinstance(value, int):
        number = int(value)
        if INT_MIN <= number <= INT_MAX:
            return number
        if not repairs.full():
            repairs.kept.append(f"integer beyond 64 bits at {_path_text(path)} recorded as its decimal string")
        return _int_text(number)
    if isinstance(value, float):
        return float(value)
    if isinstance(value, bytes):
        return bytes(value)
    if isinstance(value, dict):
        if depth > MAX_DEPTH:
            raise Unrecordable(f"nested deeper than {MAX_DEPTH} levels at {_path_text(path)}")
        out: dict[Any, Any] = {}
        for key, item in value.items():
            new_key = _fit_key(key, depth, path, repairs)
            while isinstance(new_key, str) and new_key in out:  # keys that differed only in surrogates
                new_key += "\ufffd"
            out[new_key] = _fit(item, depth + 1, path + (new_key,), repairs)
        return out
    if isinstance(value, (list, tuple)):
        if depth > MAX_DEPTH:
            raise Unrecordable(f"nested deeper than {MAX_DEPTH} levels at {_path_text(path)}")
        return [_fit(item, depth + 1, path + (i,), repairs) for i, item in enumerate(value)]
    raise Unrecordable(f"a {type(value).__name__} value at {_path_text(path)} has no representation in the format")


def _fit_key(key: Any, depth: int, path: tuple[Any, ...], repairs: _Repairs) -> Any:
    if isinstance(key, str):
        fixed, changed = clean_text(str.__str__(key))
        if changed and not repairs.full():
            repairs.kept.append(f"lone UTF-16 surrogates replaced by U+FFFD in a key under {_path_text(path)}")
        return fixed
    if isinstance(key, (int, float, bytes)) or key is None:
        return _fit(key, depth, path, repairs)
    raise Unrecordable(f"a {type(key).__name__} key under {_path_text(path)} has no representation in the format")


def _int_text(number: int) -> str:
    try:
        return str(number)
    except ValueError:      # beyond Python's int->str digit limit (sys.set_int_max_str_digits)
        return f"<integer of {number.bit_length()} bits>"
