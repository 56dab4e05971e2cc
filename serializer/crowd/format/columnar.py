"""Compact frames: the events of a finished segment, delta-encoded and compressed as one.

While recording, frames are written every fraction of a second so a crash loses nothing;
each such frame holds a handful of events and compresses poorly on its own (zstd cannot
see the previous frames, and every event repeats its keys, its kind and large clock
values). When a segment is finished, the writer rewrites it as a few large *compact*
frames: every event becomes its difference from the previous event of the same kind
(unchanged values vanish, integers become small deltas: offsets, versions, seq, clocks),
so what is left for zstd is mostly the typed text.

A compact frame's payload is still one zstd frame of msgpack, but of a map
``{"columnar": 1, ...}`` instead of an event list; ``frames.decode_payload`` expands it,
so readers see plain events. Lossless for every value msgpack carries (dict key order
of re-added keys aside).
"""
from __future__ import annotations

from typing import Any

import msgpack

from crowd.format.schema import INT_MAX, INT_MIN

VERSION = 1
_SAME = msgpack.ExtType(1, b"")          # the value equals the previous one
_DELTA = 2                               # ExtType(2, packed int): previous + delta
_REMOVED = msgpack.ExtType(3, b"")       # dict key under which removed keys are listed
_MISSING = object()


def _enc(prev: Any, cur: Any) -> Any:
    if type(cur) is type(prev) and cur == prev:
        return _SAME
    if type(cur) is int and type(prev) is int and INT_MIN <= cur - prev <= INT_MAX:
        # a delta of two 64-bit values can exceed 64 bits: then the value is stored as is
        return msgpack.ExtType(_DELTA, msgpack.packb(cur - prev))
    if type(cur) is dict and type(prev) is dict:
        out: dict[Any, Any] = {}
        for key, value in cur.items():
            if key in prev:
                enc = _enc(prev[key], value)
                if enc is not _SAME:
                    out[key] = enc
            else:
                out[key] = _literal(value, None)
        removed = [k for k in prev if k not in cur]
        if removed:
            out[_REMOVED] = removed
        return out
    if type(cur) is list and type(prev) is list and len(cur) == len(prev) and cur:
        return [_enc(p, c) for p, c in zip(prev, cur)]
    return _literal(cur, prev)


def _literal(value: Any, prev: Any) -> Any:
    """A value stored as is; containers whose shape the decoder would read as a diff are wrapped."""
    if type(value) is dict or (type(value) is list and type(prev) is list and len(value) == len(prev)):
        return msgpack.ExtType(4, msgpack.packb(value, use_bin_type=True))
    return value


def _dec(prev: Any, enc: Any) -> Any:
    if isinstance(enc, msgpack.ExtType):
        if enc.code == 1:
            return prev
        if enc.code == _DELTA:
            return prev + msgpack.unpackb(enc.data)
        if enc.code == 4:
            return msgpack.unpackb(enc.data, raw=False, strict_map_key=False)
        raise ValueError(f"unknown compact marker {enc.code}")
    if type(enc) is dict:
        base = dict(prev) if type(prev) is dict else {}
        for key, value in enc.items():
            if key == _REMOVED:
                continue
            base[key] = _dec(base.get(key, _MISSING), value) if key in base else _dec(_MISSING, value)
        for key in enc.get(_REMOVED, ()):
            base.pop(key, None)
        return base
    if type(enc) is list and type(prev) is list and len(enc) == len(prev):
        return [_dec(p, e) for p, e in zip(prev, enc)]
    return enc


def encode(events: list[dict[str, Any]]) -> dict[str, Any]:
    """The compact form of ``events`` (a msgpack-able map)."""
    kinds: dict[tuple[str, str], int] = {}
    last_body: dict[int, dict[str, Any]] = {}
    k_col, s_col, t_col, w_col, bodies = [], [], [], [], []
    prev_seq = prev_t = prev_resid = 0
    for event in events:
        body = {key: value for key, value in event.items() if key not in ("seq", "t", "wall", "type", "kind")}
        key = (event.get("type"), event.get("kind"))
        index = kinds.setdefault(key, len(kinds))
        seq, t, wall = event.get("seq", 0), event.get("t", 0), event.get("wall", 0)
        resid = wall - t // 1000                 # wall clock minus monotonic: nearly constant
        k_col.append(index)
        s_col.append(seq - prev_seq)
        t_col.append(t - prev_t)
        w_col.append(resid - prev_resid)
        prev_seq, prev_t, prev_resid = seq, t, resid
        prev = last_body.get(index)
        bodies.append(_literal(body, None) if prev is None else _enc(prev, body))
        last_body[index] = body
    return {"columnar": VERSION, "kinds": [list(k) for k in kinds], "k": k_col, "s": s_col, "t": t_col,
            "w": w_col, "b": bodies}


def decode(data: dict[Any, Any]) -> list[dict[str, Any]]:
    if data.get("columnar") != VERSION:
        raise ValueError(f"unsupported compact frame version {data.get('columnar')!r}")
    kinds = [tuple(k) for k in data["kinds"]]
    last_body: dict[int, dict[str, Any]] = {}
    events = []
    seq = t = resid = 0
    for index, ds, dt, dw, enc in zip(data["k"], data["s"], data["t"], data["w"], data["b"]):
        seq += ds
        t += dt
        resid += dw
        body = _dec(last_body.get(index, _MISSING), enc) if index in last_body else _dec(_MISSING, enc)
        last_body[index] = body
        type_, kind = kinds[index]
        event = {"seq": seq, "t": t, "wall": resid + t // 1000, "type": type_, "kind": kind}
        event.update(body)
        events.append(event)
    return events
