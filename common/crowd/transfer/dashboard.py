"""The collection dashboard's numbers, read from the bucket and nothing else.

Why from the bucket: the researcher wants what was collected, not what some process
believes it collected. Every bundle object is opened (its manifest, its editor segments
through crowd.format, its desktop input logs through crowd.format.desktop.keylog); bundle
keys are content-addressed, so a bundle's numbers never change and are cached by key and
ETag. Contributors' upload backlogs are the ``status/<contributor>.json`` objects that
``crowd ingest`` writes from their reports.

Definitions (docs/scale.md, "Dashboard"):
- recorded time of an editor segment: the sum of the gaps between consecutive events, each
  gap capped at ``MAX_GAP_S`` (idle stretches count up to that); a gap is *terminal* time
  when the user's last surface action before it was a terminal one (terminal_focus,
  terminal_input, terminal_command, terminal_open), else *editor* time; its day is the UTC
  day of the event that opens it;
- recorded time of a desktop segment: first to last input-log timestamp; its day is the UTC
  day of the segment's mtime;
- action mix: ``action`` events by source: ``user``, ``agent:<name>``, ``git`` (any
  ``git*`` source), ``external``.
"""
from __future__ import annotations

import io
import json
import logging
import tarfile
import tempfile
from collections import Counter, defaultdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, BinaryIO

from crowd.transfer.store import StoreSettings, list_objects, parse_bundle_key

log = logging.getLogger(__name__)

MAX_GAP_S = 300.0
TERMINAL_ACTIONS = frozenset({"terminal_focus", "terminal_input", "terminal_command", "terminal_open"})
EDITOR_ACTIONS = frozenset({"edit", "selection", "tab_switch", "open", "close", "save", "editor_command"})


def _day(epoch_s: float) -> str:
    return datetime.fromtimestamp(epoch_s, UTC).strftime("%Y-%m-%d")


def source_label(event: dict[str, Any]) -> str:
    source = str(event.get("source") or "unknown")
    if source == "agent":
        return f"agent:{event.get('agent') or 'unknown'}"
    if source.startswith("git"):
        return "git"
    return source


def editor_segment_stats(events: list[dict[str, Any]]) -> dict[str, Any]:
    """Time per surface and per day, and the action mix, of one editor segment's events."""
    days: Counter[str] = Counter()
    surface: Counter[str] = Counter()
    mix: Counter[str] = Counter()
    current = "editor"
    ordered = [e for e in events if isinstance(e.get("wall"), (int, float))]
    for i, event in enumerate(ordered):
        if event.get("type") == "action":
            mix[source_label(event)] += 1
            if event.get("kind") in TERMINAL_ACTIONS:
                current = "terminal"
            elif event.get("kind") in EDITOR_ACTIONS:
                current = "editor"
        if i + 1 < len(ordered):
            gap = min(MAX_GAP_S, max(0.0, (ordered[i + 1]["wall"] - event["wall"]) / 1000.0))
            surface[current] += gap
            days[_day(event["wall"] / 1000.0)] += gap
    return {"seconds_by_surface": dict(surface), "seconds_by_day": dict(days), "action_mix": dict(mix),
            "events": len(events)}


def bundle_stats(data: bytes | BinaryIO, parts: dict[str, str]) -> dict[str, Any]:
    """The numbers of one bundle (the tar's bytes, or a seekable file holding them). Only
    segment logs are read; videos are skipped by seeking past them."""
    from crowd.format import read_recording  # noqa: PLC0415
    from crowd.format.desktop.keylog import loads as load_keylog  # noqa: PLC0415

    out: dict[str, Any] = {**parts, "seconds_by_surface": Counter(), "seconds_by_day": Counter(),
                           "action_mix": Counter(), "events": 0, "segments": 0}
    fileobj = io.BytesIO(data) if isinstance(data, bytes) else data
    with tarfile.open(fileobj=fileobj) as tar, tempfile.TemporaryDirectory() as tmp:
        for member in tar.getmembers():
            if not member.isfile():
                continue
            name = member.name.rsplit("/", 1)[-1]
            if name.endswith(".crowd") and name.startswith("seg-"):
                seg = Path(tmp) / name
                seg.write_bytes(tar.extractfile(member).read())
                try:
                    part = editor_segment_stats(read_recording(seg).events)
                except ValueError as exc:   # an unreadable segment is reported, not counted
                    log.warning("bundle %s: segment %s unreadable: %s", parts.get("sha256"), name, exc)
                    continue
                finally:
                    seg.unlink()
                out["segments"] += 1
                out["events"] += part["events"]
                out["seconds_by_surface"].update(part["seconds_by_surface"])
                out["seconds_by_day"].update(part["seconds_by_day"])
                out["action_mix"].update(part["action_mix"])
            elif name.startswith("input_") and name.endswith(".msgpack"):
                entries = load_keylog(tar.extractfile(member).read())
                stamps = [e.t_us for e in entries]
                seconds = (max(stamps) - min(stamps)) / 1e6 if stamps else 0.0
                out["segments"] += 1
                out["events"] += len(entries)
                out["seconds_by_surface"]["desktop"] += seconds
                out["seconds_by_day"][_day(member.mtime)] += seconds
    for key in ("seconds_by_surface", "seconds_by_day", "action_mix"):
        out[key] = dict(out[key])
    return out


def read_backlogs(client: Any, settings: StoreSettings) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for obj in list_objects(client, settings.bucket, settings.status_prefix + "/"):
        try:
            status = json.loads(client.get_object(Bucket=settings.bucket, Key=obj["key"])["Body"].read())
            out[str(status["contributor"])] = {"held": int(status.get("held", 0)),
                                               "waiting": int(status.get("waiting", 0)),
                                               "reported": float(status.get("reported", 0))}
        except (ValueError, KeyError, TypeError):
            log.warning("unreadable status object %s", obj["key"])
    return out


def collect_stats(client: Any, settings: StoreSettings, *, cache: dict[str, Any] | None = None) -> dict[str, Any]:
    """Everything the dashboard shows, from the bucket."""
    cache = {} if cache is None else cache
    hours_day: Counter[str] = Counter()
    hours_user: Counter[str] = Counter()
    surface: Counter[str] = Counter()
    mix: Counter[str] = Counter()
    kinds: dict[str, dict[str, Any]] = defaultdict(lambda: {"bundles": 0, "bytes": 0, "sessions": set(),
                                                            "events": 0, "segments": 0})
    for obj in list_objects(client, settings.bucket, settings.prefix + "/"):
        parts = parse_bundle_key(settings, obj["key"])
        if parts is None:
            continue
        cached = cache.get(obj["key"])
        if cached is None or cached[0] != obj["etag"]:
            try:
                with tempfile.TemporaryFile() as body:   # a bundle may be GBs of video: not in memory
                    client.download_fileobj(settings.bucket, obj["key"], body)
                    body.seek(0)
                    cached = (obj["etag"], bundle_stats(body, parts))
            except (tarfile.TarError, ValueError, OSError) as exc:
                log.warning("bundle %s unreadable: %s", obj["key"], exc)
                cached = (obj["etag"], {**parts, "seconds_by_surface": {}, "seconds_by_day": {},
                                        "action_mix": {}, "events": 0, "segments": 0, "unreadable": True})
            cache[obj["key"]] = cached
        stats = cached[1]
        k = kinds[parts["kind"]]
        k["bundles"] += 1
        k["bytes"] += obj["size"]
        k["sessions"].add((parts["contributor"], parts["session_id"]))
        k["events"] += stats["events"]
        k["segments"] += stats["segments"]
        seconds = sum(stats["seconds_by_surface"].values())
        hours_user[parts["contributor"]] += seconds / 3600
        for day, s in stats["seconds_by_day"].items():
            hours_day[day] += s / 3600
        for name, s in stats["seconds_by_surface"].items():
            surface[name] += s / 3600
        mix.update(stats["action_mix"])
    backlog = read_backlogs(client, settings)
    return {
        "hours_per_day": dict(sorted(hours_day.items())),
        "hours_per_contributor": dict(sorted(hours_user.items())),
        "hours_by_surface": {name: surface.get(name, 0.0) for name in ("editor", "terminal", "desktop")},
        "action_mix": dict(mix.most_common()),
        "datasets": {kind: {**v, "sessions": len(v["sessions"])} for kind, v in sorted(kinds.items())},
        "backlog": backlog,
        "backlog_total": {"held": sum(b["held"] for b in backlog.values()),
                          "waiting": sum(b["waiting"] for b in backlog.values())},
        "generated": datetime.now(UTC).isoformat(timespec="seconds"),
    }
