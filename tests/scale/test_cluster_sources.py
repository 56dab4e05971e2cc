"""crowd.cluster's reading of outside input (bucket keys, bundle members) and its shards,
against a real S3 store (SeaweedFS, tests/helpers/object_store.py) where a store is involved."""
from __future__ import annotations

import io
import json
import tarfile
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crowd.cluster.engine import run_tasks
from crowd.cluster.shards import finish_card, unify, write_shard
from crowd.cluster.sources import (S3Location, SourceError, bundle_manifest, fetch_bundles, member_path,
                                   parse_s3, s3_sessions)
from crowd.transfer.store import s3_client
from tests.helpers.object_store import fresh_bucket


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(["", ".", "..", "a", "b.crowd", "manifest.json", "/"]), min_size=1, max_size=5))
def test_member_paths_never_leave_the_session_folder(parts):
    name = "/".join(parts)
    rel = member_path(name)
    if rel is not None:
        assert not rel.startswith("/") and ".." not in rel.split("/") and "" not in rel.split("/")
        assert rel != "manifest.json"
        root = Path("/session")
        assert (root / rel).resolve().is_relative_to(root)


@settings(max_examples=100, deadline=None)
@given(st.from_regex(r"[a-z0-9][a-z0-9.-]{0,20}", fullmatch=True), st.lists(st.from_regex(r"[A-Za-z0-9_-]{1,8}", fullmatch=True), max_size=3))
def test_s3_urls_parse_to_bucket_and_prefix(bucket, parts):
    loc = parse_s3(f"s3://{bucket}/" + "/".join(parts) + ("/" if parts else ""))
    assert loc == S3Location(bucket, "/".join(parts))


def test_a_url_without_bucket_is_refused():
    with pytest.raises(SourceError, match="no bucket"):
        parse_s3("s3:///bundles")


def tar_of(members: dict[str, bytes], manifest: dict | None = None) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        items = ([("sess/manifest.json", json.dumps(manifest).encode())] if manifest is not None else []) + list(members.items())
        for name, data in items:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
        link = tarfile.TarInfo("sess/link")
        link.type, link.linkname = tarfile.SYMTYPE, "/etc/passwd"
        tar.addfile(link)
    return buf.getvalue()


def test_bundles_unpack_inside_the_folder_and_merge(tmp_path):
    store = fresh_bucket()
    client = s3_client(store)
    evil = {"sess/../../escaped": b"x", "/abs/escaped": b"x", "sess/seg-000001.crowd": b"one"}
    client.put_object(Bucket=store.bucket, Key="bundles/alice/editor/sess/a.tar",
                      Body=tar_of(evil, {"files": [{"name": "seg-000001.crowd"}]}))
    client.put_object(Bucket=store.bucket, Key="bundles/alice/editor/sess/b.tar",
                      Body=tar_of({"sess/snapshots/m.json": b"{}"}, {"files": []}))
    client.put_object(Bucket=store.bucket, Key="bundles/alice/desktop/other/c.tar", Body=tar_of({}, {"files": []}))
    sessions = s3_sessions(store, S3Location(store.bucket, "bundles"), "editor")
    assert sessions == [{"name": "sess", "kind": "editor", "keys": ["bundles/alice/editor/sess/a.tar",
                                                                    "bundles/alice/editor/sess/b.tar"]}]
    dest = fetch_bundles(store, sessions[0]["keys"], tmp_path / "out" / "sess")
    files = sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*") if p.is_file())
    assert files == ["out/sess/seg-000001.crowd", "out/sess/snapshots/m.json"]
    assert (dest / "seg-000001.crowd").read_bytes() == b"one"
    assert bundle_manifest(store, sessions[0]["keys"][0]) == {"files": [{"name": "seg-000001.crowd"}]}
    with pytest.raises(SourceError, match="missing"):
        fetch_bundles(store, sessions[0]["keys"][:1], tmp_path / "again", wanted={"nothing.mp4"})
    client.put_object(Bucket=store.bucket, Key="bundles/alice/editor/bad/x.tar", Body=b"not a tar" * 100)
    with pytest.raises(SourceError):
        bundle_manifest(store, "bundles/alice/editor/bad/x.tar")


def test_shards_with_a_null_column_unify_into_one_schema(tmp_path):
    write_shard([{"id": 1, "goal": None}], tmp_path / "k" / "train" / "a.parquet")
    write_shard([{"id": 2, "goal": "fix it", "extra": 1.5}], tmp_path / "k" / "train" / "b.parquet")
    assert write_shard([], tmp_path / "k" / "train" / "c.parquet") == 0
    assert not (tmp_path / "k" / "train" / "c.parquet").exists()
    schema = unify(sorted((tmp_path / "k" / "train").glob("*.parquet")))
    assert schema.field("goal").type == pa.string() and schema.names == ["extra", "goal", "id"]
    assert pq.read_schema(tmp_path / "k" / "train" / "a.parquet").equals(schema)
    assert pq.read_table(tmp_path / "k" / "train" / "a.parquet").to_pylist() == [{"extra": None, "goal": None, "id": 1}]
    rows = finish_card(tmp_path, {"k": {"train": "k/train", "validation": "k/validation"}}, "test")
    assert rows == {"k": {"train": 2, "validation": 0}}
    card = (tmp_path / "README.md").read_text()
    assert "path: k/train/*.parquet" in card and "k/validation" not in card


def test_local_engine_runs_the_task_function_in_order():
    assert run_tasks([{"n": 3}, {"n": 1}], lambda t: {"twice": t["n"] * 2}, engine="local") == [{"twice": 6}, {"twice": 2}]
    with pytest.raises(ValueError, match="unknown engine"):
        run_tasks([{"n": 1}], lambda t: t, engine="spark")


def test_without_ray_the_modules_import_and_say_what_to_install():
    """The core install has no Ray: the modules load, and asking for Ray names the extra."""
    import subprocess
    import sys

    code = ("import sys; sys.modules['ray'] = None\n"
            "import crowd.cli, crowd.serializer.dataset.sharded, crowd.idm.sharded\n"
            "from crowd.cluster.engine import RayMissing, run_tasks\n"
            "try:\n    run_tasks([{'n': 1}], dict, engine='ray')\nexcept RayMissing as exc:\n    print(exc)\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "crowd-rollouts[scale]" in done.stdout
