"""``crowd snapshot list|restore|export``: inspect and use the snapshots of a recording.

A recording is named by its folder or by its session id under crowd's recordings folder.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path


def _store_for(recording: str):
    from crowd.home import recordings_dir
    from crowd.snapshots.store import SnapshotStore

    folder = Path(recording)
    if not folder.is_dir():
        folder = recordings_dir() / recording
    store_root = folder / "snapshots"
    if not store_root.is_dir():
        raise SystemExit(f"crowd snapshot: no snapshots in {recording!r} (looked for {store_root})")
    return SnapshotStore(store_root)


def _list(args: argparse.Namespace) -> int:
    infos = _store_for(args.recording).list()
    if not infos:
        print("no snapshots")
        return 0
    print(f"{'id':<16} {'t (s)':>10} {'files':>8} {'changed':>8}")
    for info in infos:
        print(f"{info.snapshot_id:<16} {info.t / 1e6:>10.3f} {info.files:>8} {info.changed:>8}")
    return 0


def _restore(args: argparse.Namespace) -> int:
    from crowd.snapshots.store import SnapshotError

    try:
        n = _store_for(args.recording).restore(args.snapshot, args.dest)
    except SnapshotError as exc:
        print(f"crowd snapshot restore: {exc}", file=sys.stderr)
        return 1
    print(f"restored {n} files of {args.snapshot} into {args.dest}")
    return 0


def _export(args: argparse.Namespace) -> int:
    from crowd.snapshots.store import SnapshotError

    store = _store_for(args.recording)
    ids = [args.snapshot] if args.snapshot else [i.snapshot_id for i in store.list()]
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    try:
        for snap in ids:
            n, skipped = store.export_json(snap, out / f"{snap}.json")
            note = f" ({len(skipped)} non-UTF-8 files left out: {', '.join(skipped[:5])})" if skipped else ""
            print(f"{snap}.json: {n} files{note}")
    except SnapshotError as exc:
        print(f"crowd snapshot export: {exc}", file=sys.stderr)
        return 1
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("snapshot", help="list, restore or export a recording's workspace snapshots")
    sub = p.add_subparsers(dest="snapshot_command", metavar="ACTION", required=True)
    lp = sub.add_parser("list", help="list the snapshots of a recording")
    lp.add_argument("recording", help="recording folder or session id")
    lp.set_defaults(handler=_list)
    rp = sub.add_parser("restore", help="write a snapshot into an empty folder, byte for byte")
    rp.add_argument("recording", help="recording folder or session id")
    rp.add_argument("snapshot", help="snapshot id, e.g. snapshot_001")
    rp.add_argument("dest", help="destination folder (absent or empty)")
    rp.set_defaults(handler=_restore)
    ep = sub.add_parser("export", help="export snapshots in crowd-code 2.0 JSON form (snapshot_NNN.json)")
    ep.add_argument("recording", help="recording folder or session id")
    ep.add_argument("out", help="folder to write snapshot_NNN.json files into")
    ep.add_argument("--snapshot", help="only this snapshot (default: all)")
    ep.set_defaults(handler=_export)
