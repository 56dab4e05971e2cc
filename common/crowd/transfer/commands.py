"""CLI: ``crowd upload [status|pause|resume|consent|config|panic|run]`` and ``crowd ingest``."""
from __future__ import annotations

import argparse
import json
import os
import secrets
import signal
import sys
import time
from pathlib import Path


def _queue(args: argparse.Namespace):
    from crowd.home import crowd_home
    from crowd.transfer.queue import UploadQueue

    return UploadQueue(Path(args.queue) if args.queue else crowd_home() / "upload")


def register(sub: argparse._SubParsersAction) -> None:
    up = sub.add_parser("upload", help="the upload queue: status, pause/resume, consent, run")
    up.add_argument("--queue", help="queue folder (default: $CROWD_HOME/upload)")
    up.set_defaults(handler=_status)
    usub = up.add_subparsers(dest="upload_command", metavar="ACTION")
    usub.add_parser("status", help="what is held, waiting and uploaded").set_defaults(handler=_status)
    usub.add_parser("pause", help="stop uploading until resumed").set_defaults(handler=_pause)
    usub.add_parser("resume", help="upload again").set_defaults(handler=_resume)
    c = usub.add_parser("consent", help="grant or revoke consent to upload")
    c.add_argument("answer", choices=["grant", "revoke"])
    c.set_defaults(handler=_consent)
    cfg = usub.add_parser("config", help="set the endpoint, token, hold period")
    cfg.add_argument("--endpoint")
    cfg.add_argument("--token")
    cfg.add_argument("--hold", type=float, help="seconds a bundle is held before upload (default 600)")
    cfg.set_defaults(handler=_config)
    p = usub.add_parser("panic", help="delete held bundles with content from the last N minutes")
    p.add_argument("--minutes", type=float, default=10.0)
    p.set_defaults(handler=_panic)
    r = usub.add_parser("run", help="queue finished recordings and upload what is due")
    r.add_argument("--recordings", help="editor recordings folder (default: $CROWD_HOME/recordings)")
    r.add_argument("--desktop", help="desktop (crowd-cast layout) segments folder "
                                     "(default: the folder `crowd cast` records into)")
    r.add_argument("--idle", type=float, default=600.0, help="a last segment idle this long is finished")
    r.add_argument("--final", action="store_true", help="the recordings are over: take every segment")
    r.add_argument("--watch", action="store_true", help="keep running, rescanning every --interval s")
    r.add_argument("--interval", type=float, default=30.0)
    r.add_argument("--wait", type=float, default=0.0, help="wait up to this long through backoffs")
    r.set_defaults(handler=_run)

    ing = sub.add_parser("ingest", help="hand out presigned upload URLs for an S3 bucket, on loopback; "
                                        "the collection dashboard at /dashboard")
    ing.add_argument("--store", help="embedded SeaweedFS data folder (default: $CROWD_HOME/store); "
                                     "ignored with --s3-endpoint")
    ing.add_argument("--s3-endpoint", help="an S3 endpoint instead of the embedded store (AWS, R2, MinIO, ...)")
    ing.add_argument("--public-endpoint", help="the store's address as uploaders reach it (default: the endpoint)")
    ing.add_argument("--bucket", default="crowd")
    ing.add_argument("--region", default="us-east-1")
    ing.add_argument("--access-key", default=os.environ.get("AWS_ACCESS_KEY_ID"))
    ing.add_argument("--secret-key", default=os.environ.get("AWS_SECRET_ACCESS_KEY"),
                     help="(default: $AWS_SECRET_ACCESS_KEY)")
    ing.add_argument("--host", default="127.0.0.1")
    ing.add_argument("--port", type=int, default=8765)
    ing.add_argument("--token", default=os.environ.get("CROWD_INGEST_TOKEN"),
                     help="the researcher's token, also accepted from uploaders "
                          "(default: $CROWD_INGEST_TOKEN or a new one)")
    ing.add_argument("--tokens", help="JSON file {token: contributor}: one token per contributor")
    ing.add_argument("--max-bytes", type=int, default=2 * 1024 ** 3)
    ing.add_argument("--list", action="store_true",
                     help="ask the running crowd ingest (--host, --port, --token) for the bucket's bundles")
    ing.set_defaults(handler=_ingest)


def _status(args: argparse.Namespace) -> int:
    q = _queue(args)
    now = time.time()
    waiting = [b for b in q.bundles("queued")]
    info = {"consent": q.consent, "paused": q.paused, "userId": q.user_id(),
            "endpoint": q.get("endpoint"), "holdSeconds": q.hold_s, **q.counts(now),
            "queued": [{"file": b.file_name, "size": b.size, "held_for_s": max(0, round(b.ready_at - now)),
                        "attempts": b.attempts, "last_error": b.last_error} for b in waiting[:20]]}
    print(json.dumps(info, indent=1))
    return 0


def _pause(args: argparse.Namespace) -> int:
    _queue(args).set("paused", "1")
    print("uploads paused")
    return 0


def _resume(args: argparse.Namespace) -> int:
    _queue(args).set("paused", "0")
    print("uploads resumed")
    return 0


def _consent(args: argparse.Namespace) -> int:
    _queue(args).set("consent", "granted" if args.answer == "grant" else "revoked")
    print(f"upload consent {'granted' if args.answer == 'grant' else 'revoked'}")
    return 0


def _config(args: argparse.Namespace) -> int:
    q = _queue(args)
    if args.endpoint:
        q.set("endpoint", args.endpoint)
    if args.token:
        q.set("token", args.token)
    if args.hold is not None:
        q.set("hold_s", str(args.hold))
    print(json.dumps({"endpoint": q.get("endpoint"), "holdSeconds": q.hold_s, "token": bool(q.get("token"))}))
    return 0


def _panic(args: argparse.Namespace) -> int:
    q = _queue(args)
    removed = q.panic(time.time() - args.minutes * 60)
    print(f"deleted {len(removed)} held bundle(s)")
    return 0


def _run(args: argparse.Namespace) -> int:
    from crowd.home import recordings_dir
    from crowd.transfer.client import Uploader, UploaderConfig
    from crowd.transfer.scan import (
        default_desktop_folder,
        enqueue_desktop_recordings,
        enqueue_editor_recordings,
        live_desktop_sessions,
    )

    q = _queue(args)
    endpoint = q.get("endpoint")
    if not endpoint:
        print("no endpoint configured: crowd upload config --endpoint URL --token T", file=sys.stderr)
        return 2
    if not q.consent:
        print("no consent to upload: crowd upload consent grant", file=sys.stderr)
        return 3
    recordings = Path(args.recordings) if args.recordings else recordings_dir()
    desktop = Path(args.desktop) if args.desktop else default_desktop_folder()
    uploader = Uploader(q, UploaderConfig(endpoint=endpoint, token=q.get("token") or "",
                                          backoff_base_s=float(q.get("backoff_base_s", "30")),
                                          backoff_max_s=float(q.get("backoff_max_s", "7200")),
                                          report_backlog=True))
    try:
        while True:
            finals = {p.name for p in recordings.iterdir() if p.is_dir()} if args.final and recordings.is_dir() else None
            added = enqueue_editor_recordings(q, recordings, idle_s=args.idle, final_sessions=finals)
            added += enqueue_desktop_recordings(q, desktop, idle_s=args.idle, final=args.final,
                                                live=live_desktop_sessions())
            result = uploader.run_until_idle(deadline_s=args.wait or None)
            print(json.dumps({"bundled": len(added), **result}), flush=True)
            if not args.watch:
                return 0 if result["waiting"] == 0 else 1
            time.sleep(args.interval)
    finally:
        uploader.stop()


def _ingest(args: argparse.Namespace) -> int:
    from crowd.home import crowd_home
    from crowd.transfer.ingest import IngestServer
    from crowd.transfer.seaweed import EmbeddedStore
    from crowd.transfer.store import StoreSettings, ensure_bucket, s3_client

    if args.list:
        return _ingest_list(args)
    embedded = None
    if args.s3_endpoint:
        if not (args.access_key and args.secret_key):
            print("--s3-endpoint needs --access-key and --secret-key (or AWS_* variables)", file=sys.stderr)
            return 2
        store = StoreSettings(endpoint=args.s3_endpoint, bucket=args.bucket, access_key=args.access_key,
                              secret_key=args.secret_key, region=args.region)
        ensure_bucket(s3_client(store), store.bucket)
    else:
        embedded = EmbeddedStore(Path(args.store) if args.store else crowd_home() / "store", bucket=args.bucket)
        embedded.start()
        store = embedded.settings
    store.public_endpoint = args.public_endpoint
    # SIGTERM ends it like Ctrl-C, so the embedded store is stopped too
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        tokens = None
        if args.tokens:
            try:
                tokens = json.loads(Path(args.tokens).read_text())
                if not isinstance(tokens, dict):
                    raise ValueError("not an object")
            except (OSError, ValueError) as exc:
                print(f"cannot read --tokens {args.tokens}: {exc}", file=sys.stderr)
                return 2
        token = args.token or secrets.token_urlsafe(24)
        server = IngestServer(store, token=token, tokens=tokens, host=args.host, port=args.port,
                              max_bytes=args.max_bytes)
        print(f"crowd ingest on {server.url}/v1/presign for s3 {store.endpoint} bucket {store.bucket}; "
              f"dashboard {server.url}/dashboard?token=...", flush=True)
        if not args.token:
            print(f"token: {token}", flush=True)
        try:
            server.serve_forever()
        finally:
            server.stop()
        return 0
    finally:
        if embedded is not None:
            embedded.stop()


def _ingest_list(args: argparse.Namespace) -> int:
    import urllib.error  # noqa: PLC0415
    import urllib.request  # noqa: PLC0415

    if not args.token:
        print("--list needs the researcher's --token (or $CROWD_INGEST_TOKEN)", file=sys.stderr)
        return 2
    req = urllib.request.Request(f"http://{args.host}:{args.port}/v1/list",
                                 headers={"Authorization": f"Bearer {args.token}"})
    try:
        with urllib.request.urlopen(req, timeout=60) as answer:
            objects = json.loads(answer.read())
    except (urllib.error.URLError, OSError, ValueError) as exc:
        print(f"crowd ingest at {args.host}:{args.port} did not answer: {exc}", file=sys.stderr)
        return 1
    for obj in objects:
        print(f"{obj['key']}\t{obj['size']}\t{obj['etag']}")
    return 0
