"""The clip index as an Arrow IPC file that every loader process memory-maps.

Why: the training dataset held the index as a list of dicts, and each DataLoader worker
(spawned) unpickled its own copy: at 1.5M clips that is 3.7 GiB per process, ~88 GiB for 8 ranks
x 2 workers. An Arrow file is opened with a memory map instead: the pages are the OS's page
cache, shared by every process on the node, and pickling the index sends only its path. One
row is turned into the same dict `load_clips` gives, on demand.

prepare writes `train.arrow` / `val.arrow` next to the human-readable `.jsonl`; a folder from
before that gets its `.arrow` built from the `.jsonl` on first use.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

COLUMNS = ("clip", "session", "segment", "start_frame", "n_frames", "fps", "width", "height",
           "source_width", "source_height")


def load_clips(data_dir: str | Path, split: str) -> list[dict]:
    """All records of a split from its .jsonl (the human-readable copy of the index)."""
    path = Path(data_dir) / f"{split}.jsonl"
    if not path.exists():
        raise FileNotFoundError(f"{path} not found: run `crowd idm prepare` first")
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def index_path(data_dir: str | Path, split: str) -> Path:
    return Path(data_dir) / f"{split}.arrow"


def write_index(records: list[dict], path: str | Path) -> Path:
    """Writes records (prepare's dicts) as an Arrow IPC file; actions and any other keys as JSON."""
    import pyarrow as pa

    cols: dict[str, list] = {c: [r[c] for r in records] for c in COLUMNS}
    cols["actions"] = [json.dumps(r["actions"]) for r in records]
    cols["extra"] = [json.dumps({k: v for k, v in r.items() if k not in COLUMNS and k != "actions"}) for r in records]
    table = pa.table(cols)
    path = Path(path)
    tmp = path.with_suffix(".arrow.tmp")
    with pa.OSFile(str(tmp), "wb") as sink, pa.ipc.new_file(sink, table.schema) as writer:
        writer.write_table(table)
    tmp.replace(path)
    return path


class ClipIndex:
    """Read-only, memory-mapped view of one split's clips; picklable as its path alone."""

    def __init__(self, data_dir: str | Path, split: str) -> None:
        self.path = index_path(data_dir, split)
        if not self.path.exists():
            write_index(load_clips(data_dir, split), self.path)
        self._table: Any = None

    def _open(self) -> Any:
        if self._table is None:
            import pyarrow as pa

            self._table = pa.ipc.open_file(pa.memory_map(str(self.path), "r")).read_all()
        return self._table

    def __getstate__(self) -> dict:
        return {"path": self.path, "_table": None}

    def __len__(self) -> int:
        return self._open().num_rows

    def __getitem__(self, i: int) -> dict:
        t = self._open()
        row = {c: t.column(c)[i].as_py() for c in COLUMNS}
        row["actions"] = json.loads(t.column("actions")[i].as_py())
        row.update(json.loads(t.column("extra")[i].as_py()))
        return row
