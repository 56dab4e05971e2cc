"""``crowd dataset``: run the converters over recordings, split by session, write data + metadata.

Output layout (each folder loadable with ``datasets.load_dataset("json"|"parquet", data_files=...)``)::

    OUT/metadata.json
    OUT/<kind>/train.jsonl  validation.jsonl  train.parquet  validation.parquet

The split is per session (a hash of the session id), so no session leaks between train and
validation. Sessions are processed in sorted session-id order and rows are written with
sorted keys: the same inputs give byte-identical files.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from crowd.serializer.dataset.common import session_split, write_rows

KINDS = ("trajectories", "pairs", "next-action", "sed")
DATASET_FORMAT_VERSION = 1


def convert(kind: str, events: list[dict[str, Any]], session_id: str, counter, max_tokens: int) -> list[dict[str, Any]]:
    if kind == "trajectories":
        from crowd.serializer.dataset.trajectories import convert_trajectories

        return convert_trajectories(events, session_id)
    if kind == "pairs":
        from crowd.serializer.dataset.pairs import convert_pairs

        return convert_pairs(events, session_id)
    if kind == "next-action":
        from crowd.serializer.dataset.next_action import convert_next_action

        return convert_next_action(events, session_id, counter, max_tokens)
    if kind == "sed":
        from crowd.serializer.dataset.sed import convert_sed

        return convert_sed(events, session_id, counter, budget=max_tokens, msg_cap=min(2048, max_tokens // 2))
    raise ValueError(f"unknown dataset kind {kind!r}; choose from {', '.join(KINDS)}")


def build_datasets(inputs: list[Path], out: Path, kinds: list[str] | tuple[str, ...] = KINDS,
                   val_fraction: float = 0.1, max_tokens: int = 8192, parquet: bool = True) -> dict[str, Any]:
    from crowd.serializer.interop.load import load_events

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    counter = None
    if any(k in ("next-action", "sed") for k in kinds):
        from crowd.serializer.dataset.tokenizer import QwenCounter

        counter = QwenCounter()
    sessions = []
    problems: list[str] = []
    for path in inputs:
        loaded = load_events(path)
        sid = loaded.session_id or Path(path).name
        problems.extend(f"{sid}: {p}" for p in loaded.problems)
        sessions.append((sid, loaded))
    sessions.sort(key=lambda s: s[0])
    ids = [s[0] for s in sessions]
    if len(set(ids)) != len(ids):
        raise ValueError(f"the same session id appears twice in the inputs: {sorted({i for i in ids if ids.count(i) > 1})}")
    split = {sid: session_split(sid, val_fraction) for sid in ids}
    meta: dict[str, Any] = {
        "format": "crowd-dataset", "format_version": DATASET_FORMAT_VERSION, "val_fraction": val_fraction,
        "split_rule": "sha256(session_id)[:8] / 2**64 < val_fraction -> validation",
        "sessions": [{"session_id": sid, "format": ld.format, "events": len(ld.events), "split": split[sid]}
                     for sid, ld in sessions],
        "tokenizer": counter.name if counter else None, "max_tokens": max_tokens,
        "datasets": {}, "problems": problems,
    }
    for kind in kinds:
        rows: dict[str, list[dict[str, Any]]] = {"train": [], "validation": []}
        for sid, loaded in sessions:
            rows[split[sid]].extend(convert(kind, loaded.events, sid, counter, max_tokens))
        info = write_rows(rows, out / kind, parquet)
        info["description"] = DESCRIPTIONS[kind]
        meta["datasets"][kind] = info
    (out / "metadata.json").write_text(json.dumps(meta, indent=2, sort_keys=True, ensure_ascii=False) + "\n",
                                       encoding="utf-8")
    return meta


DESCRIPTIONS = {
    "trajectories": "goal-conditioned episodes cut at idle gaps, commits, branch switches and agent prompts; "
                    "goal + goal_source; steps_json = actions with the observation after each; files_json = "
                    "text of touched files at their first touch",
    "pairs": "agent edit batches with prompt, snapshot context (context_json), response diff and implicit "
             "feedback (kept / revised + edit_distance / reverted / re-prompted) within a horizon",
    "next-action": "append-only teacher-forced token sequences (Qwen vocabulary); each chunk starts with a "
                   "keyframe; loss_mask = 1 on user actions only",
    "sed": "SED shell-conversation format: assistant = user's actions as shell commands, user = observations",
}
