"""Parquet shards written by tasks, and the dataset card that makes a folder of them a dataset.

A task writes its rows to ``<folder>/<name>.parquet`` through a temporary name and a rename:
a task that Ray reruns (its worker was killed) replaces its own shard, so a shard is either
absent or complete, never doubled. Shards of one config may infer different Arrow types
(a column that is null in every row of one session); ``finish_card`` unifies the schemas,
rewrites only the shards that differ, and writes ``README.md`` with the ``configs:`` and
``dataset_info`` features YAML that ``datasets.load_dataset(folder)`` reads.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any

TMP_MARK = ".tmp-"


def write_shard(rows: list[dict[str, Any]], path: Path) -> int:
    """Rows -> one Parquet file, atomically; nothing is written for no rows. Returns the count."""
    if not rows:
        return 0
    import pyarrow as pa  # noqa: PLC0415
    import pyarrow.parquet as pq  # noqa: PLC0415

    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}{TMP_MARK}{os.getpid()}")
    pq.write_table(pa.Table.from_pylist(rows), tmp)
    os.replace(tmp, path)
    return len(rows)


def remove_leftovers(folder: Path) -> None:
    """Temporary files of tasks whose worker was killed mid-write."""
    for p in folder.rglob(f".*{TMP_MARK}*"):
        p.unlink(missing_ok=True)


def unify(files: list[Path]) -> Any:
    """One schema for all shards (null columns take the type others give them); shards that
    differ are rewritten cast to it. Returns the schema (None for no files)."""
    import pyarrow as pa  # noqa: PLC0415
    import pyarrow.parquet as pq  # noqa: PLC0415

    if not files:
        return None
    schemas = {f: pq.read_schema(f) for f in files}
    schema = pa.unify_schemas(list(schemas.values()), promote_options="permissive")
    schema = pa.schema(sorted(schema, key=lambda field: field.name))
    for f, s in schemas.items():
        if not s.equals(schema):
            table = pq.read_table(f)
            cols = {name: (table[name] if name in table.column_names else pa.nulls(len(table), field.type))
                    for name, field in zip(schema.names, schema)}
            table = pa.table(cols).cast(schema)
            tmp = f.with_name(f".{f.name}{TMP_MARK}{os.getpid()}")
            pq.write_table(table, tmp)
            os.replace(tmp, f)
    return schema


def finish_card(root: Path, configs: dict[str, dict[str, str]], description: str) -> dict[str, dict[str, int]]:
    """Unify each config's shards and write ``root/README.md``. ``configs``: name ->
    {split: folder relative to root}. Splits without shards are left out of the card.
    Returns rows per config and split."""
    import pyarrow.parquet as pq  # noqa: PLC0415
    from datasets import DatasetInfo, Features, SplitDict, SplitInfo  # noqa: PLC0415
    from datasets.info import DatasetInfosDict  # noqa: PLC0415
    from huggingface_hub import DatasetCardData  # noqa: PLC0415

    remove_leftovers(root)
    data_files: list[dict[str, Any]] = []
    infos: dict[str, Any] = {}
    rows: dict[str, dict[str, int]] = {}
    for name, splits in configs.items():
        files = {split: sorted((root / rel).glob("*.parquet")) for split, rel in splits.items()}
        schema = unify([f for fs in files.values() for f in fs])
        rows[name] = {split: sum(pq.read_metadata(f).num_rows for f in fs) for split, fs in files.items()}
        if schema is None:
            continue
        data_files.append({"config_name": name, "data_files": [
            {"split": split, "path": f"{rel}/*.parquet"} for split, rel in splits.items() if files[split]]})
        split_dict = SplitDict()
        for split, n in rows[name].items():
            if n:
                split_dict.add(SplitInfo(name=split, num_examples=n))
        infos[name] = DatasetInfo(features=Features.from_arrow_schema(schema), config_name=name, splits=split_dict)
    card = DatasetCardData(configs=data_files)
    DatasetInfosDict(infos).to_dataset_card_data(card)
    text = "---\n" + card.to_yaml() + "\n---\n\n" + description.strip() + "\n"
    (root / "README.md").write_text(text, encoding="utf-8")
    return rows
