"""Where work comes from: a local path, or ``s3://bucket/prefix`` holding uploaded bundles.

An uploaded session is every bundle under ``<prefix>/<contributor>/<kind>/<session>/``
(crowd.transfer.store.bundle_key): a session's segments arrive in several bundles over time,
so a task fetches all of them and unpacks them into one folder, as the recorder had it.
Desktop segments are listed from each bundle's ``manifest.json`` (the tar's first member,
read with one ranged GET), so one task per segment fetches only its two files.
"""
from __future__ import annotations

import io
import json
import os
import posixpath
import tarfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from crowd.transfer.store import KINDS, StoreSettings, list_objects, s3_client

S3_SCHEME = "s3://"
MANIFEST_READ_BYTES = 1 << 20   # a manifest of thousands of files fits; the tar header is 512 bytes


class SourceError(ValueError):
    """A source that cannot be read (bad URL, no endpoint, nothing there)."""


@dataclass(frozen=True)
class S3Location:
    bucket: str
    prefix: str

    @property
    def url(self) -> str:
        return f"{S3_SCHEME}{self.bucket}/{self.prefix}"


def is_s3(source: str | os.PathLike[str]) -> bool:
    return str(source).startswith(S3_SCHEME)


def parse_s3(source: str) -> S3Location:
    rest = source[len(S3_SCHEME):]
    bucket, _, prefix = rest.partition("/")
    if not bucket:
        raise SourceError(f"{source}: no bucket (expected s3://bucket/prefix)")
    return S3Location(bucket, prefix.strip("/"))


def settings_from_env(bucket: str, endpoint: str | None = None) -> StoreSettings:
    """The store a source bucket is read from: ``endpoint`` or ``CROWD_S3_ENDPOINT`` /
    ``AWS_ENDPOINT_URL``, keys from ``AWS_ACCESS_KEY_ID`` / ``AWS_SECRET_ACCESS_KEY``."""
    endpoint = endpoint or os.environ.get("CROWD_S3_ENDPOINT") or os.environ.get("AWS_ENDPOINT_URL")
    key, secret = os.environ.get("AWS_ACCESS_KEY_ID"), os.environ.get("AWS_SECRET_ACCESS_KEY")
    if not endpoint or not key or not secret:
        raise SourceError("an s3:// source needs an endpoint (--s3-endpoint, CROWD_S3_ENDPOINT or "
                          "AWS_ENDPOINT_URL) and AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY")
    return StoreSettings(endpoint=endpoint, bucket=bucket, access_key=key, secret_key=secret,
                         region=os.environ.get("AWS_DEFAULT_REGION", "us-east-1"))


def s3_sessions(settings: StoreSettings, location: S3Location, kind: str) -> list[dict[str, Any]]:
    """Sessions of ``kind`` under the prefix, sorted by key: {"name", "kind", "keys": [bundle keys]}."""
    if kind not in KINDS:
        raise SourceError(f"unknown kind {kind!r}")
    prefix = location.prefix + "/" if location.prefix else ""
    groups: dict[str, list[str]] = {}
    for obj in list_objects(s3_client(settings), location.bucket, prefix):
        key = obj["key"]
        parts = key.split("/")
        if len(parts) >= 4 and key.endswith(".tar") and parts[-3] == kind:
            groups.setdefault(posixpath.dirname(key), []).append(key)
    return [{"name": posixpath.basename(d), "kind": kind, "keys": sorted(keys)} for d, keys in sorted(groups.items())]


def member_path(name: str) -> str | None:
    """A bundle member's path inside its session folder (the first component is the session);
    None for the manifest or anything that would leave the folder."""
    parts = name.split("/")
    rel = parts[1:]
    if len(parts) < 2 or not rel or any(p in ("", ".", "..") for p in rel) or name.startswith("/"):
        return None
    if rel == ["manifest.json"]:
        return None
    return "/".join(rel)


def fetch_bundles(settings: StoreSettings, keys: list[str], dest: Path, wanted: set[str] | None = None) -> Path:
    """Unpack the bundles' members (only ``wanted`` names, if given) into ``dest``, streaming
    each object; the same member in two bundles (a retried upload) is the same bytes."""
    client = s3_client(settings)
    dest.mkdir(parents=True, exist_ok=True)
    left = set(wanted) if wanted is not None else None
    for key in keys:
        body = client.get_object(Bucket=settings.bucket, Key=key)["Body"]
        with tarfile.open(fileobj=body, mode="r|") as tar:
            for member in tar:
                rel = member_path(member.name)
                if rel is None or not member.isfile() or (left is not None and rel not in left):
                    continue
                target = dest / rel
                target.parent.mkdir(parents=True, exist_ok=True)
                src = tar.extractfile(member)
                assert src is not None
                part = target.with_name(target.name + ".part")
                with open(part, "wb") as fh:
                    while block := src.read(1 << 20):
                        fh.write(block)
                os.replace(part, target)
                if left is not None:
                    left.discard(rel)
                    if not left:
                        break
        body.close()
        if left is not None and not left:
            break
    if left:
        raise SourceError(f"missing from the bundles {keys}: {sorted(left)}")
    return dest


def bundle_manifest(settings: StoreSettings, key: str) -> dict[str, Any]:
    """A bundle's manifest.json, read from the object's first bytes (a ranged GET)."""
    client = s3_client(settings)
    head = client.get_object(Bucket=settings.bucket, Key=key, Range=f"bytes=0-{MANIFEST_READ_BYTES - 1}")["Body"].read()
    try:
        with tarfile.open(fileobj=io.BytesIO(head), mode="r|") as tar:
            for member in tar:
                if member.name.endswith("/manifest.json"):
                    src = tar.extractfile(member)
                    assert src is not None
                    return json.loads(src.read())
                break
    except (tarfile.TarError, ValueError) as exc:
        raise SourceError(f"{key}: unreadable bundle manifest: {exc}") from exc
    raise SourceError(f"{key}: the bundle does not start with its manifest.json")
