"""Where bundles are kept: any S3-compatible object store, reached through boto3.

Why an object store and not files of ours: integrity checks, exactly-once and listing are
what a bucket already does. Measured against SeaweedFS 4.48 (tests/transfer/test_store.py
keeps each of these facts):
- a presigned PUT signed with ``Content-MD5`` and ``x-amz-checksum-sha256`` is refused
  (400 BadDigest) when one byte differs, and 403 when a header is missing or changed: the
  store checks integrity, the URL binds the checksum;
- signed with ``If-None-Match: *`` a second PUT of the same key answers 412: with
  content-addressed keys (the sha256 is in the name) a retry after a lost answer is the
  same object, so a 412 means "already there, with these bytes";
- a body cut short stores nothing; ``Content-Length: -1`` is answered 400;
- a 200 answer echoes ``X-Amz-Checksum-Sha256`` and an ``ETag`` that is the body's MD5.

Keys: ``<prefix>/<contributor>/<kind>/<session>/<sha256>.tar``; status objects (a
contributor's upload backlog) under ``<status prefix>/<contributor>.json``.
"""
from __future__ import annotations

import base64
import re
from dataclasses import dataclass, field
from typing import Any

SAFE_PART = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")
SHA256_HEX = re.compile(r"^[0-9a-f]{64}$")
MD5_HEX = re.compile(r"^[0-9a-f]{32}$")
KINDS = ("editor", "desktop")


@dataclass
class StoreSettings:
    """How to reach a bucket. ``public_endpoint`` is what upload URLs name (a proxy or a
    public address in front of the store); by default the same as ``endpoint``."""
    endpoint: str
    bucket: str
    access_key: str
    secret_key: str
    region: str = "us-east-1"
    prefix: str = "bundles"
    status_prefix: str = "status"
    public_endpoint: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def upload_endpoint(self) -> str:
        return self.public_endpoint or self.endpoint


def s3_client(settings: StoreSettings, *, public: bool = False, timeout_s: float = 30.0) -> Any:
    """A boto3 S3 client (path-style addressing, SigV4: what SeaweedFS, MinIO, R2, AWS share)."""
    import boto3  # noqa: PLC0415 - only the ingest side needs boto3
    from botocore.config import Config  # noqa: PLC0415

    config = Config(signature_version="s3v4", s3={"addressing_style": "path"}, connect_timeout=timeout_s,
                    read_timeout=timeout_s, retries={"max_attempts": 2, "mode": "standard"})
    return boto3.client("s3", endpoint_url=settings.upload_endpoint if public else settings.endpoint,
                        aws_access_key_id=settings.access_key, aws_secret_access_key=settings.secret_key,
                        region_name=settings.region, config=config)


def bundle_key(settings: StoreSettings, contributor: str, kind: str, session_id: str, sha256: str) -> str:
    """The content-addressed name of one bundle; raises ValueError for anything unsafe."""
    if not SAFE_PART.match(contributor) or not SAFE_PART.match(session_id) or kind not in KINDS:
        raise ValueError("bad contributor, kind or session id")
    if not SHA256_HEX.match(sha256):
        raise ValueError("sha256 must be 64 lowercase hex digits")
    return f"{settings.prefix}/{contributor}/{kind}/{session_id}/{sha256}.tar"


def parse_bundle_key(settings: StoreSettings, key: str) -> dict[str, str] | None:
    """The parts of a key made by :func:`bundle_key`; None for any other key."""
    parts = key.split("/")
    if len(parts) != 5 or parts[0] != settings.prefix or not parts[4].endswith(".tar"):
        return None
    return {"contributor": parts[1], "kind": parts[2], "session_id": parts[3], "sha256": parts[4][:-4]}


def hex_to_b64(digest_hex: str) -> str:
    return base64.b64encode(bytes.fromhex(digest_hex)).decode()


def presign_put(client: Any, settings: StoreSettings, key: str, *, sha256: str, md5: str,
                ttl_s: int = 3600) -> tuple[str, dict[str, str]]:
    """A presigned PUT URL and the headers the upload must send (they are signed into it)."""
    headers = {"Content-MD5": hex_to_b64(md5), "x-amz-checksum-sha256": hex_to_b64(sha256),
               "If-None-Match": "*", "Content-Type": "application/x-tar"}
    url = client.generate_presigned_url(
        "put_object", ExpiresIn=int(ttl_s),
        Params={"Bucket": settings.bucket, "Key": key, "ContentMD5": headers["Content-MD5"],
                "ChecksumSHA256": headers["x-amz-checksum-sha256"], "IfNoneMatch": "*",
                "ContentType": "application/x-tar"})
    return url, headers


def list_objects(client: Any, bucket: str, prefix: str) -> list[dict[str, Any]]:
    """Every object under ``prefix`` (all pages): key, size, etag, last modified (epoch s)."""
    out: list[dict[str, Any]] = []
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for obj in page.get("Contents", []):
            out.append({"key": obj["Key"], "size": obj["Size"], "etag": obj["ETag"].strip('"'),
                        "modified": obj["LastModified"].timestamp()})
    return out


def ensure_bucket(client: Any, bucket: str) -> None:
    from botocore.exceptions import ClientError  # noqa: PLC0415

    try:
        client.head_bucket(Bucket=bucket)
    except ClientError:
        client.create_bucket(Bucket=bucket)
